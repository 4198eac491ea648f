#include "ckpt/runtime/scope.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attr_value.pb.h"

namespace ckpt {

Scope::Scope(Graph* graph, std::shared_ptr<absl::Status> status)
    : graph_(graph), status_(std::move(status)) {}

Scope Scope::NewRootScope(Graph* graph) {
  return Scope(graph, std::make_shared<absl::Status>());
}

Scope Scope::NewSubScope(absl::string_view name) const {
  Scope s = *this;
  s.op_name_.clear();
  std::string unique = graph_->UniqueName(absl::StrCat(prefix_, name));
  s.prefix_ = absl::StrCat(unique, "/");
  return s;
}

Scope Scope::WithOpName(absl::string_view name) const {
  Scope s = *this;
  s.op_name_ = std::string(name);
  return s;
}

Scope Scope::WithControlDependencies(const std::vector<Operation>& ops) const {
  Scope s = *this;
  s.control_deps_.insert(s.control_deps_.end(), ops.begin(), ops.end());
  return s;
}

Scope Scope::WithNoControlDependencies() const {
  Scope s = *this;
  s.op_name_.clear();
  s.control_deps_.clear();
  return s;
}

std::string Scope::GetUniqueNameForOp(absl::string_view default_name) const {
  absl::string_view base = op_name_.empty() ? default_name : absl::string_view(op_name_);
  return graph_->UniqueName(absl::StrCat(prefix_, base));
}

void Scope::UpdateStatus(const absl::Status& s) const {
  if (status_->ok() && !s.ok()) *status_ = s;
}

Node* Scope::AddOp(absl::string_view op, absl::string_view default_name,
                   const std::vector<Output>& inputs,
                   std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                   std::vector<PartialShape> output_shapes) const {
  std::vector<std::vector<Output>> args;
  args.reserve(inputs.size());
  for (const Output& in : inputs) args.push_back({in});
  return AddOpWithLists(op, default_name, args, std::move(attrs), std::move(output_shapes));
}

Node* Scope::AddOpWithLists(absl::string_view op, absl::string_view default_name,
                            const std::vector<std::vector<Output>>& args,
                            std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                            std::vector<PartialShape> output_shapes) const {
  if (!ok()) return nullptr;
  return AddOpNamed(op, GetUniqueNameForOp(default_name), args, std::move(attrs),
                    std::move(output_shapes));
}

Node* Scope::AddOpNamed(absl::string_view op, const std::string& exact_name,
                        const std::vector<std::vector<Output>>& args,
                        std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                        std::vector<PartialShape> output_shapes) const {
  if (!ok()) return nullptr;
  const ::tensorflow::OpDef* op_def = graph_->registry().Find(op);
  if (op_def == nullptr) {
    UpdateStatus(
        absl::NotFoundError(absl::StrCat("unknown op '", op, "' (node '", exact_name, "')")));
    return nullptr;
  }
  if (static_cast<int>(args.size()) != op_def->input_arg_size()) {
    UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat(op, " '", exact_name, "': takes ", op_def->input_arg_size(),
                     " input argument(s), got ", args.size())));
    return nullptr;
  }
  ::tensorflow::NodeDef def;
  def.set_name(exact_name);
  def.set_op(std::string(op));
  auto& def_attrs = *def.mutable_attr();
  for (auto& [name, value] : attrs) def_attrs[name] = std::move(value);
  // Attrs the caller set win; the rest that the OpDef ties to an input
  // argument (its type, its length, its list of types) come from the inputs.
  for (int a = 0; a < op_def->input_arg_size(); ++a) {
    const auto& arg = op_def->input_arg(a);
    const std::vector<Output>& outs = args[a];
    for (const Output& o : outs) {
      if (!o.valid()) {
        UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
            op, " '", exact_name, "': input '", arg.name(), "' is invalid (an earlier error)")));
        return nullptr;
      }
      def.add_input(o.index() == 0 ? o.node()->name()
                                   : absl::StrCat(o.node()->name(), ":", o.index()));
    }
    if (!arg.number_attr().empty() && !def_attrs.contains(arg.number_attr())) {
      def_attrs[arg.number_attr()].set_i(static_cast<int64_t>(outs.size()));
    }
    if (!arg.type_attr().empty() && !outs.empty() && !def_attrs.contains(arg.type_attr())) {
      def_attrs[arg.type_attr()].set_type(outs[0].dtype());
    }
    if (!arg.type_list_attr().empty() && !def_attrs.contains(arg.type_list_attr())) {
      auto* list = def_attrs[arg.type_list_attr()].mutable_list();
      for (const Output& o : outs) list->add_type(o.dtype());
    }
  }
  for (const Operation& dep : control_deps_) {
    if (dep.valid()) def.add_input(absl::StrCat("^", dep.name()));
  }
  absl::StatusOr<Node*> node = graph_->AddNode(std::move(def));
  if (!node.ok()) {
    UpdateStatus(node.status());
    return nullptr;
  }
  for (size_t i = 0; i < output_shapes.size() && i < (*node)->output_shapes.size(); ++i) {
    (*node)->output_shapes[i] = std::move(output_shapes[i]);
  }
  return *node;
}

::tensorflow::AttrValue AttrType(DType t) {
  ::tensorflow::AttrValue v;
  v.set_type(t);
  return v;
}
::tensorflow::AttrValue AttrInt(int64_t i) {
  ::tensorflow::AttrValue v;
  v.set_i(i);
  return v;
}
::tensorflow::AttrValue AttrFloat(float f) {
  ::tensorflow::AttrValue v;
  v.set_f(f);
  return v;
}
::tensorflow::AttrValue AttrBool(bool b) {
  ::tensorflow::AttrValue v;
  v.set_b(b);
  return v;
}
::tensorflow::AttrValue AttrString(absl::string_view s) {
  ::tensorflow::AttrValue v;
  v.set_s(std::string(s));
  return v;
}
::tensorflow::AttrValue AttrShape(const PartialShape& shape) {
  ::tensorflow::AttrValue v;
  shape.ToProto(v.mutable_shape());
  return v;
}
::tensorflow::AttrValue AttrIntList(const std::vector<int64_t>& ints) {
  ::tensorflow::AttrValue v;
  auto* list = v.mutable_list();
  for (int64_t i : ints) list->add_i(i);
  return v;
}
::tensorflow::AttrValue AttrTypeList(const std::vector<DType>& types) {
  ::tensorflow::AttrValue v;
  auto* list = v.mutable_list();
  for (DType t : types) list->add_type(t);
  return v;
}

}  // namespace ckpt
