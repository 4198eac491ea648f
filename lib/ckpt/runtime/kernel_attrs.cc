// The typed attr getters of kernel.h. Each names the node and the attr in its
// error, since a kernel constructor that fails stops the whole session setup
// and the message is all the user sees.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attr_value.pb.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/tensor_proto.h"

namespace ckpt {
namespace runtime {
namespace {

using ::tensorflow::AttrValue;
using ::tensorflow::NodeDef;

// What an AttrValue holds, for "is not a type (it holds a string)".
const char* ValueKind(const AttrValue& v) {
  switch (v.value_case()) {
    case AttrValue::kList: return "a list";
    case AttrValue::kS: return "a string";
    case AttrValue::kI: return "an int";
    case AttrValue::kF: return "a float";
    case AttrValue::kB: return "a bool";
    case AttrValue::kType: return "a type";
    case AttrValue::kShape: return "a shape";
    case AttrValue::kTensor: return "a tensor";
    case AttrValue::kPlaceholder: return "a placeholder";
    case AttrValue::kFunc: return "a function";
    case AttrValue::VALUE_NOT_SET: break;
  }
  return "no value";
}

absl::StatusOr<const AttrValue*> Find(const NodeDef& def, absl::string_view name) {
  auto it = def.attr().find(std::string(name));
  if (it == def.attr().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", def.name(), "': attr '", name, "' missing"));
  }
  return &it->second;
}

// Looks `name` up and checks it holds `want`; `what` is "a type", "an int", ...
absl::StatusOr<const AttrValue*> FindOfKind(const NodeDef& def, absl::string_view name,
                                            AttrValue::ValueCase want, const char* what) {
  auto v = Find(def, name);
  if (!v.ok()) return v.status();
  if ((*v)->value_case() != want) {
    return absl::InvalidArgumentError(absl::StrCat("node '", def.name(), "': attr '", name,
                                                   "' is not ", what, " (it holds ",
                                                   ValueKind(**v), ")"));
  }
  return *v;
}

// List attrs: an AttrValue with no value at all is taken as the empty list,
// as some writers leave an empty `list {}` out entirely.
absl::StatusOr<const AttrValue::ListValue*> FindList(const NodeDef& def,
                                                     absl::string_view name) {
  auto v = Find(def, name);
  if (!v.ok()) return v.status();
  if ((*v)->value_case() == AttrValue::VALUE_NOT_SET) {
    return &AttrValue::ListValue::default_instance();
  }
  if ((*v)->value_case() != AttrValue::kList) {
    return absl::InvalidArgumentError(absl::StrCat("node '", def.name(), "': attr '", name,
                                                   "' is not a list (it holds ",
                                                   ValueKind(**v), ")"));
  }
  return &(*v)->list();
}

}  // namespace

absl::StatusOr<DType> GetTypeAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kType, "a type");
  if (!v.ok()) return v.status();
  return (*v)->type();
}

absl::StatusOr<int64_t> GetIntAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kI, "an int");
  if (!v.ok()) return v.status();
  return static_cast<int64_t>((*v)->i());
}

absl::StatusOr<float> GetFloatAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kF, "a float");
  if (!v.ok()) return v.status();
  return (*v)->f();
}

absl::StatusOr<bool> GetBoolAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kB, "a bool");
  if (!v.ok()) return v.status();
  return (*v)->b();
}

absl::StatusOr<std::string> GetStringAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kS, "a string");
  if (!v.ok()) return v.status();
  return (*v)->s();
}

absl::StatusOr<std::vector<int64_t>> GetIntListAttr(const NodeDef& def,
                                                    absl::string_view name) {
  auto list = FindList(def, name);
  if (!list.ok()) return list.status();
  return std::vector<int64_t>((*list)->i().begin(), (*list)->i().end());
}

absl::StatusOr<std::vector<DType>> GetTypeListAttr(const NodeDef& def,
                                                   absl::string_view name) {
  auto list = FindList(def, name);
  if (!list.ok()) return list.status();
  std::vector<DType> types;
  types.reserve((*list)->type_size());
  for (int t : (*list)->type()) types.push_back(static_cast<DType>(t));
  return types;
}

absl::StatusOr<Tensor> GetTensorAttr(const NodeDef& def, absl::string_view name) {
  auto v = FindOfKind(def, name, AttrValue::kTensor, "a tensor");
  if (!v.ok()) return v.status();
  absl::StatusOr<Tensor> t = TensorFromProto((*v)->tensor());
  if (!t.ok()) {
    return absl::Status(t.status().code(), absl::StrCat("node '", def.name(), "': attr '",
                                                        name, "': ", t.status().message()));
  }
  return t;
}

}  // namespace runtime
}  // namespace ckpt
