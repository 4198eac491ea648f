// Builders for the checkpoint ops (see ckpt/runtime/io_ops.h).
//
// Python's op wrappers open a name scope named after the op, convert list
// arguments to constants inside it ("SaveV2/tensor_names") and then give the
// op the scope's own name ("SaveV2"). Scope::AddOp cannot give a node a name
// that is already reserved, so these builders reserve the op's name first and
// add every node with its exact name through Graph::AddNode.
#include "ckpt/runtime/io_ops.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/tensor_proto.h"

namespace ckpt {
namespace ops {
namespace {

using Attrs = std::vector<std::pair<std::string, ::tensorflow::AttrValue>>;

// "node" for output 0 (TensorFlow's spelling), "node:i" otherwise.
std::string InputName(const Output& o) {
  if (o.index() == 0) return o.node()->name();
  return absl::StrCat(o.node()->name(), ":", o.index());
}

bool AllValid(const Scope& s, const std::vector<Output>& inputs, absl::string_view op) {
  for (const Output& o : inputs) {
    if (o.valid()) continue;
    // An earlier builder failed and recorded why; say so only if it did not.
    if (s.ok()) {
      s.UpdateStatus(absl::InvalidArgumentError(
          absl::StrCat("building ", op, ": an input is not a valid tensor")));
    }
    return false;
  }
  return true;
}

// Adds a node named exactly `name`, with the scope's control dependencies.
// Returns nullptr after recording the error in the scope.
Node* AddNamed(const Scope& s, const std::string& name, const std::string& op,
               const std::vector<Output>& inputs, Attrs attrs,
               std::vector<PartialShape> output_shapes) {
  if (!s.ok() || !AllValid(s, inputs, op)) return nullptr;
  ::tensorflow::NodeDef def;
  def.set_name(name);
  def.set_op(op);
  for (const Output& in : inputs) def.add_input(InputName(in));
  for (const Operation& dep : s.control_deps()) {
    if (dep.valid()) def.add_input(absl::StrCat("^", dep.name()));
  }
  for (auto& [key, value] : attrs) (*def.mutable_attr())[key] = std::move(value);
  absl::StatusOr<Node*> node = s.graph()->AddNode(std::move(def));
  if (!node.ok()) {
    s.UpdateStatus(node.status());
    return nullptr;
  }
  if (static_cast<int>(output_shapes.size()) == (*node)->num_outputs()) {
    (*node)->output_shapes = std::move(output_shapes);
  }
  return *node;
}

// A Const named exactly `name` (made unique if taken).
Output NamedConst(const Scope& s, const std::string& name, const Tensor& value) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  absl::Status st = TensorToProto(value, v.mutable_tensor());
  if (!st.ok()) {
    s.UpdateStatus(st);
    return Output();
  }
  Node* n = AddNamed(s, s.graph()->UniqueName(name), "Const", {},
                     {{"dtype", AttrType(value.dtype())}, {"value", std::move(v)}},
                     {PartialShape(value.shape())});
  return n == nullptr ? Output() : Output(n, 0);
}

Output StringVectorConst(const Scope& s, const std::string& name,
                         const std::vector<std::string>& values) {
  Tensor t(DT_STRING, TensorShape({static_cast<int64_t>(values.size())}));
  *t.mutable_strings() = values;
  return NamedConst(s, name, t);
}

Output ScalarStringConst(const Scope& s, const std::string& name, const std::string& value) {
  Tensor t(DT_STRING, TensorShape({}));
  (*t.mutable_strings())[0] = value;
  return NamedConst(s, name, t);
}

Output ScalarInt32Const(const Scope& s, const std::string& name, int32_t value) {
  Tensor t(DT_INT32, TensorShape({}));
  t.mutable_flat<int32_t>()[0] = value;
  return NamedConst(s, name, t);
}

std::vector<DType> DTypesOf(const std::vector<Output>& tensors) {
  std::vector<DType> out;
  out.reserve(tensors.size());
  for (const Output& t : tensors) out.push_back(t.dtype());
  return out;
}

Operation AddSaveV2(const Scope& s, const std::string& name, Output prefix, Output names,
                    Output slices, const std::vector<Output>& tensors) {
  if (!AllValid(s, tensors, "SaveV2")) return Operation();
  std::vector<Output> inputs = {prefix, names, slices};
  inputs.insert(inputs.end(), tensors.begin(), tensors.end());
  Node* n = AddNamed(s, name, "SaveV2", inputs, {{"dtypes", AttrTypeList(DTypesOf(tensors))}}, {});
  return n == nullptr ? Operation() : Operation(n);
}

std::vector<Output> AddRestoreV2(const Scope& s, const std::string& name, Output prefix,
                                 Output names, Output slices, const std::vector<DType>& dtypes) {
  std::vector<PartialShape> shapes(dtypes.size(), PartialShape::Unknown());
  Node* n = AddNamed(s, name, "RestoreV2", {prefix, names, slices},
                     {{"dtypes", AttrTypeList(dtypes)}}, std::move(shapes));
  std::vector<Output> out;
  if (n == nullptr) return out;
  for (int i = 0; i < n->num_outputs(); ++i) out.emplace_back(n, i);
  return out;
}

}  // namespace

Operation SaveV2(const Scope& s, Output prefix, const std::vector<std::string>& tensor_names,
                 const std::vector<std::string>& shape_and_slices,
                 const std::vector<Output>& tensors) {
  if (!s.ok()) return Operation();
  if (tensor_names.size() != tensors.size() || shape_and_slices.size() != tensors.size()) {
    s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "SaveV2: ", tensors.size(), " tensors but ", tensor_names.size(), " names and ",
        shape_and_slices.size(), " shape_and_slices")));
    return Operation();
  }
  const std::string name = s.GetUniqueNameForOp("SaveV2");
  Output names = StringVectorConst(s, name + "/tensor_names", tensor_names);
  Output slices = StringVectorConst(s, name + "/shape_and_slices", shape_and_slices);
  return AddSaveV2(s, name, prefix, names, slices, tensors);
}

Operation SaveV2(const Scope& s, Output prefix, Output tensor_names, Output shape_and_slices,
                 const std::vector<Output>& tensors) {
  if (!s.ok()) return Operation();
  return AddSaveV2(s, s.GetUniqueNameForOp("SaveV2"), prefix, tensor_names, shape_and_slices,
                   tensors);
}

std::vector<Output> RestoreV2(const Scope& s, Output prefix,
                              const std::vector<std::string>& tensor_names,
                              const std::vector<std::string>& shape_and_slices,
                              const std::vector<DType>& dtypes) {
  if (!s.ok()) return {};
  if (tensor_names.size() != dtypes.size() || shape_and_slices.size() != dtypes.size()) {
    s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "RestoreV2: ", dtypes.size(), " dtypes but ", tensor_names.size(), " names and ",
        shape_and_slices.size(), " shape_and_slices")));
    return {};
  }
  const std::string name = s.GetUniqueNameForOp("RestoreV2");
  Output names = StringVectorConst(s, name + "/tensor_names", tensor_names);
  Output slices = StringVectorConst(s, name + "/shape_and_slices", shape_and_slices);
  return AddRestoreV2(s, name, prefix, names, slices, dtypes);
}

std::vector<Output> RestoreV2(const Scope& s, Output prefix, Output tensor_names,
                              Output shape_and_slices, const std::vector<DType>& dtypes) {
  if (!s.ok()) return {};
  return AddRestoreV2(s, s.GetUniqueNameForOp("RestoreV2"), prefix, tensor_names,
                      shape_and_slices, dtypes);
}

Operation MergeV2Checkpoints(const Scope& s, const std::vector<Output>& checkpoint_prefixes,
                             Output destination_prefix, bool delete_old_dirs) {
  if (!s.ok() || !AllValid(s, checkpoint_prefixes, "MergeV2Checkpoints")) return Operation();
  const std::string name = s.GetUniqueNameForOp("MergeV2Checkpoints");
  Node* pack = AddNamed(
      s, s.graph()->UniqueName(name + "/checkpoint_prefixes"), "Pack", checkpoint_prefixes,
      {{"N", AttrInt(static_cast<int64_t>(checkpoint_prefixes.size()))},
       {"T", AttrType(DT_STRING)},
       {"axis", AttrInt(0)}},
      {PartialShape({static_cast<int64_t>(checkpoint_prefixes.size())})});
  if (pack == nullptr) return Operation();
  Node* n = AddNamed(s, name, "MergeV2Checkpoints", {Output(pack, 0), destination_prefix},
                     {{"delete_old_dirs", AttrBool(delete_old_dirs)}}, {});
  return n == nullptr ? Operation() : Operation(n);
}

Operation MergeV2Checkpoints(const Scope& s, Output checkpoint_prefixes,
                             Output destination_prefix, bool delete_old_dirs) {
  if (!s.ok()) return Operation();
  Node* n = AddNamed(s, s.GetUniqueNameForOp("MergeV2Checkpoints"), "MergeV2Checkpoints",
                     {checkpoint_prefixes, destination_prefix},
                     {{"delete_old_dirs", AttrBool(delete_old_dirs)}}, {});
  return n == nullptr ? Operation() : Operation(n);
}

Output ShardedFilename(const Scope& s, Output basename, int shard, Output num_shards) {
  if (!s.ok()) return Output();
  const std::string name = s.GetUniqueNameForOp("ShardedFilename");
  Output shard_const = ScalarInt32Const(s, name + "/shard", shard);
  Node* n = AddNamed(s, name, "ShardedFilename", {basename, shard_const, num_shards}, {},
                     {PartialShape({})});
  return n == nullptr ? Output() : Output(n, 0);
}

Output ShardedFilename(const Scope& s, Output basename, Output shard, Output num_shards) {
  if (!s.ok()) return Output();
  Node* n = AddNamed(s, s.GetUniqueNameForOp("ShardedFilename"), "ShardedFilename",
                     {basename, shard, num_shards}, {}, {PartialShape({})});
  return n == nullptr ? Output() : Output(n, 0);
}

Output StringJoin(const Scope& s, const std::vector<Output>& inputs,
                  const std::string& separator) {
  if (!s.ok()) return Output();
  Node* n = AddNamed(s, s.GetUniqueNameForOp("StringJoin"), "StringJoin", inputs,
                     {{"N", AttrInt(static_cast<int64_t>(inputs.size()))},
                      {"separator", AttrString(separator)}},
                     {PartialShape({})});
  return n == nullptr ? Output() : Output(n, 0);
}

Output StringJoin(const Scope& s, Output input, const std::string& suffix,
                  const std::string& separator) {
  if (!s.ok()) return Output();
  const std::string name = s.GetUniqueNameForOp("StringJoin");
  Output suffix_const = ScalarStringConst(s, name + "/inputs_1", suffix);
  Node* n = AddNamed(s, name, "StringJoin", {input, suffix_const},
                     {{"N", AttrInt(2)}, {"separator", AttrString(separator)}},
                     {PartialShape({})});
  return n == nullptr ? Output() : Output(n, 0);
}

}  // namespace ops
}  // namespace ckpt
