// Building one node the way TensorFlow's generated Python wrappers do, for
// the builders of ops.h and the gradient functions. Private to the runtime.
//
// A Python wrapper opens a name scope for the op first ("Sum", made unique:
// "Sum_1"), converts Python values given as arguments into Const nodes inside
// it ("Sum_1/reduction_indices"), and then creates the op with exactly the
// scope's name. OpBuilder reproduces that order, so graphs built here carry
// the node names TensorFlow would give them:
//
//   OpBuilder b(s, "Sum", "Sum");                    // reserves "Sum_1"
//   Output axes = ops::Const(b.ArgScope("reduction_indices"), {1});
//   b.Input(x).Input(axes).Attr("keep_dims", AttrBool(false));
//   Output sum = b.FinishOutput(inferred_shape);    // node "Sum_1"
//
// Errors (an invalid input, a shape mismatch the builder found) are recorded
// in the scope, after which Finish returns nullptr; every call is a no-op on
// a scope that already holds an error.
#ifndef CKPT_RUNTIME_BUILDERS_OP_BUILDER_H_
#define CKPT_RUNTIME_BUILDERS_OP_BUILDER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "attr_value.pb.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace runtime {

class OpBuilder {
 public:
  // Reserves the node's name: the scope's WithOpName name if any, else
  // `default_name`, within the scope's name prefix, made unique.
  OpBuilder(const Scope& s, absl::string_view op, absl::string_view default_name);

  // The reserved node name ("" when the scope held an error).
  const std::string& name() const { return name_; }
  const std::string& op() const { return op_; }
  const Scope& scope() const { return scope_; }
  bool ok() const { return scope_.ok() && !failed_; }

  // A scope whose next node is named "<name>/<leaf>" (the argument
  // constants and helper nodes TensorFlow puts inside the op's scope).
  Scope ArgScope(absl::string_view leaf) const;
  // The same, with control dependencies on `deps` added (an argument made
  // inside Python's `with ops.control_dependencies(deps)`).
  Scope ArgScope(absl::string_view leaf, const std::vector<Operation>& deps) const;

  OpBuilder& Input(const Output& o);
  // One list argument ("N * T", list(type)).
  OpBuilder& InputList(const std::vector<Output>& outs);
  OpBuilder& Attr(std::string name, ::tensorflow::AttrValue value);

  // Records InvalidArgument "<op> '<name>': <message>" in the scope.
  void Fail(absl::string_view message);

  // Adds the node with the scope's control dependencies; `shapes` are the
  // static output shapes (unknown when left out). nullptr after an error.
  Node* Finish(std::vector<PartialShape> shapes = {});
  Output FinishOutput(PartialShape shape);

 private:
  Scope scope_;
  std::string op_;
  std::string name_;
  std::vector<std::vector<Output>> args_;
  std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs_;
  bool failed_ = false;
};

// The name Scope::GetUniqueNameForOp would give `base` (relative to the
// scope's prefix, no WithOpName) without reserving it, so a node's own
// helper nodes can be named after it before it exists.
std::string PredictUniqueName(const Scope& s, absl::string_view base);

// Constants in the form TensorFlow's Python writes them: a scalar or a
// tensor whose elements all equal `value` is stored as one typed value with
// the shape (tensor_util's abbreviated form). Supported dtypes: float,
// double, half, bfloat16 (rounded), the signed and unsigned integers and
// bool; others record Unimplemented. Named `default_name` unless the scope
// says otherwise.
Output FilledConst(const Scope& s, DType dtype, const TensorShape& shape, double value,
                   absl::string_view default_name = "Const");
inline Output ScalarConst(const Scope& s, DType dtype, double value,
                          absl::string_view default_name = "Const") {
  return FilledConst(s, dtype, TensorShape({}), value, default_name);
}
// A 1-D int32 (or int64) constant, as Python lists of ints become.
Output IntListConst(const Scope& s, const std::vector<int64_t>& values,
                    DType dtype = DT_INT32, absl::string_view default_name = "Const");

// Checks that every output is valid; records InvalidArgument naming the
// builder's op and node otherwise (a caller passed a default-constructed
// Output without any earlier error).
bool CheckInputs(OpBuilder& b, std::initializer_list<Output> inputs);

// Whether gradients flow through tensors of this dtype (floating point and
// complex, as TensorFlow's IsTrainable).
bool IsTrainableDType(DType dtype);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_BUILDERS_OP_BUILDER_H_
