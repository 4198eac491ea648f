// Constants, placeholders and variables, named as TensorFlow's Python API
// names them.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/tensor_proto.h"

namespace ckpt {
namespace ops {
namespace {

template <typename T>
Tensor Scalar(DType dtype, T value) {
  Tensor t(dtype, TensorShape({}));
  t.mutable_flat<T>()[0] = value;
  return t;
}

// Colocation hint TensorFlow puts on a variable's Assign and read nodes.
::tensorflow::AttrValue ColocateWith(const std::string& node_name) {
  ::tensorflow::AttrValue v;
  v.mutable_list()->add_s(absl::StrCat("loc:@", node_name));
  return v;
}

}  // namespace

Output Const(const Scope& s, const Tensor& value) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  absl::Status st = TensorToProto(value, v.mutable_tensor());
  if (!st.ok()) {
    s.UpdateStatus(st);
    return Output();
  }
  return Output(s.AddOp("Const", "Const", {}, {{"value", std::move(v)},
                                               {"dtype", AttrType(value.dtype())}},
                        {PartialShape(value.shape())}));
}

Output Const(const Scope& s, float value) { return Const(s, Scalar(DT_FLOAT, value)); }
Output Const(const Scope& s, double value) { return Const(s, Scalar(DT_DOUBLE, value)); }
Output Const(const Scope& s, int32_t value) { return Const(s, Scalar(DT_INT32, value)); }
Output Const(const Scope& s, int64_t value) { return Const(s, Scalar(DT_INT64, value)); }
Output Const(const Scope& s, bool value) { return Const(s, Scalar(DT_BOOL, value)); }

Output Const(const Scope& s, const std::string& value) {
  Tensor t(DT_STRING, TensorShape({}));
  (*t.mutable_strings())[0] = value;
  return Const(s, t);
}

Output Const(const Scope& s, const char* value) { return Const(s, std::string(value)); }

Output Const(const Scope& s, const std::vector<int32_t>& values) {
  Tensor t(DT_INT32, TensorShape({static_cast<int64_t>(values.size())}));
  std::copy(values.begin(), values.end(), t.mutable_flat<int32_t>().begin());
  return Const(s, t);
}

Output Const(const Scope& s, const std::vector<float>& values, const TensorShape& shape) {
  if (!s.ok()) return Output();
  if (shape.num_elements() != static_cast<int64_t>(values.size())) {
    s.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("Const: ", values.size(), " values for shape ", shape.DebugString())));
    return Output();
  }
  Tensor t(DT_FLOAT, shape);
  std::copy(values.begin(), values.end(), t.mutable_flat<float>().begin());
  return Const(s, t);
}

Output Placeholder(const Scope& s, DType dtype, const PartialShape& shape) {
  return Output(s.AddOp("Placeholder", "Placeholder", {},
                        {{"dtype", AttrType(dtype)}, {"shape", AttrShape(shape)}}, {shape}));
}

Output PlaceholderWithDefault(const Scope& s, Output input, const PartialShape& shape) {
  if (input.valid() && !shape.IsCompatibleWith(input.shape())) {
    s.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat("PlaceholderWithDefault: default value of shape ",
                     input.shape().DebugString(), " is not compatible with ",
                     shape.DebugString())));
    return Output();
  }
  return Output(s.AddOp("PlaceholderWithDefault", "PlaceholderWithDefault", {input},
                        {{"shape", AttrShape(shape)}}, {shape}));
}

Output Identity(const Scope& s, Output input) {
  return Output(s.AddOp("Identity", "Identity", {input}, {}, {input.shape()}));
}

Operation NoOp(const Scope& s) { return Operation(s.AddOp("NoOp", "NoOp", {}, {})); }

Operation Group(const Scope& s, const std::vector<Operation>& ops) {
  return Operation(s.WithControlDependencies(ops).AddOp("NoOp", "group_deps", {}, {}));
}

Output VariableV2(const Scope& s, const PartialShape& shape, DType dtype) {
  return Output(s.AddOp("VariableV2", "Variable", {},
                        {{"shape", AttrShape(shape)}, {"dtype", AttrType(dtype)},
                         {"container", AttrString("")}, {"shared_name", AttrString("")}},
                        {shape}));
}

Output Assign(const Scope& s, Output ref, Output value, bool validate_shape,
              bool use_locking) {
  PartialShape shape = validate_shape ? ref.shape() : value.shape();
  if (validate_shape && ref.valid() && value.valid() &&
      !ref.shape().IsCompatibleWith(value.shape())) {
    s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "Assign: value of shape ", value.shape().DebugString(), " to variable '",
        ref.node()->name(), "' of shape ", ref.shape().DebugString())));
    return Output();
  }
  return Output(s.AddOp("Assign", "Assign", {ref, value},
                        {{"validate_shape", AttrBool(validate_shape)},
                         {"use_locking", AttrBool(use_locking)}},
                        {shape}));
}

Output AssignAdd(const Scope& s, Output ref, Output value) {
  return Output(s.AddOp("AssignAdd", "AssignAdd", {ref, value}, {}, {ref.shape()}));
}

Output AssignSub(const Scope& s, Output ref, Output value) {
  return Output(s.AddOp("AssignSub", "AssignSub", {ref, value}, {}, {ref.shape()}));
}

Var Variable(const Scope& s, Output initial_value, const VariableOptions& options) {
  if (!s.ok()) return Var();
  if (!initial_value.valid()) {
    s.UpdateStatus(absl::InvalidArgumentError("Variable: the initial value is invalid"));
    return Var();
  }
  const PartialShape& shape = initial_value.shape();
  if (!shape.IsFullyDefined()) {
    s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "Variable: the initial value '", initial_value.name(),
        "' must have a fully defined shape, not ", shape.DebugString())));
    return Var();
  }
  Graph* g = s.graph();
  // The variable's name scope ("Variable/", "W1/") names the variable node
  // itself (without the slash) and holds its Assign and read nodes.
  Scope vs = s.WithNoControlDependencies().NewSubScope(
      options.name.empty() ? "Variable" : options.name);
  std::string var_name = vs.name_prefix();
  var_name.pop_back();

  Node* var_node = vs.AddOpNamed("VariableV2", var_name, {},
                                 {{"shape", AttrShape(shape)},
                                  {"dtype", AttrType(initial_value.dtype())},
                                  {"container", AttrString("")},
                                  {"shared_name", AttrString("")}},
                                 {shape});
  if (var_node == nullptr) return Var();
  Output ref(var_node, 0);

  Node* assign = vs.AddOp("Assign", "Assign", {ref, initial_value},
                          {{"validate_shape", AttrBool(true)},
                           {"use_locking", AttrBool(true)},
                           {"_class", ColocateWith(var_name)}},
                          {shape});
  Node* read = vs.AddOp("Identity", "read", {ref}, {{"_class", ColocateWith(var_name)}}, {shape});
  if (assign == nullptr || read == nullptr) return Var();

  ::tensorflow::VariableDef vd;
  vd.set_variable_name(ref.name());
  vd.set_initial_value_name(initial_value.name());
  vd.set_initializer_name(assign->name());
  vd.set_snapshot_name(Output(read, 0).name());
  vd.set_trainable(options.trainable);
  if (options.in_variables_collection) g->AddVariable(vd, options.trainable);
  return Var(ref, Output(read, 0), Operation(assign), initial_value);
}

Operation GlobalVariablesInitializer(const Scope& s) {
  if (!s.ok()) return Operation();
  std::vector<Operation> inits;
  for (const auto& vd : s.graph()->variables()) {
    absl::StatusOr<Operation> op = s.graph()->FindOperation(vd.initializer_name());
    if (!op.ok()) {
      s.UpdateStatus(op.status());
      return Operation();
    }
    inits.push_back(*op);
  }
  return Operation(s.WithControlDependencies(inits).AddOp("NoOp", "init", {}, {}));
}

}  // namespace ops
}  // namespace ckpt
