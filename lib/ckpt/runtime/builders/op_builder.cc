#include "ckpt/runtime/builders/op_builder.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "tensor.pb.h"

namespace ckpt {
namespace runtime {
namespace {

// IEEE half from float, rounding to nearest even (values beyond the range
// become infinity).
uint16_t FloatToHalfBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const int32_t exp = static_cast<int32_t>((x >> 23) & 0xffu) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xffu) == 0xffu) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (mant != 0 ? 0x200u : 0u));
  }
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000u;
    const int shift = 14 - exp;
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  const uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) ++half;
  return static_cast<uint16_t>(half);
}

uint16_t FloatToBfloat16Bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

std::string InputName(const Output& o) {
  return o.index() == 0 ? o.node()->name() : absl::StrCat(o.node()->name(), ":", o.index());
}

}  // namespace

OpBuilder::OpBuilder(const Scope& s, absl::string_view op, absl::string_view default_name)
    : scope_(s), op_(op) {
  if (s.ok()) name_ = s.GetUniqueNameForOp(default_name);
}

Scope OpBuilder::ArgScope(absl::string_view leaf) const {
  // name_ begins with the scope's prefix (GetUniqueNameForOp put it there);
  // WithOpName adds the prefix back.
  absl::string_view rel = name_;
  if (absl::StartsWith(rel, scope_.name_prefix())) rel.remove_prefix(scope_.name_prefix().size());
  return scope_.WithOpName(absl::StrCat(rel, "/", leaf));
}

Scope OpBuilder::ArgScope(absl::string_view leaf, const std::vector<Operation>& deps) const {
  absl::string_view rel = name_;
  if (absl::StartsWith(rel, scope_.name_prefix())) rel.remove_prefix(scope_.name_prefix().size());
  return scope_.WithControlDependencies(deps).WithOpName(absl::StrCat(rel, "/", leaf));
}

OpBuilder& OpBuilder::Input(const Output& o) {
  args_.push_back({o});
  return *this;
}

OpBuilder& OpBuilder::InputList(const std::vector<Output>& outs) {
  args_.push_back(outs);
  return *this;
}

OpBuilder& OpBuilder::Attr(std::string name, ::tensorflow::AttrValue value) {
  attrs_.emplace_back(std::move(name), std::move(value));
  return *this;
}

void OpBuilder::Fail(absl::string_view message) {
  if (!scope_.ok() || failed_) return;
  failed_ = true;
  scope_.UpdateStatus(
      absl::InvalidArgumentError(absl::StrCat(op_, " '", name_, "': ", message)));
}

Node* OpBuilder::Finish(std::vector<PartialShape> shapes) {
  if (!ok()) return nullptr;
  return AddNodeNamed(scope_, name_, op_, args_, std::move(attrs_), std::move(shapes));
}

Output OpBuilder::FinishOutput(PartialShape shape) {
  Node* n = Finish({std::move(shape)});
  return n == nullptr ? Output() : Output(n, 0);
}

Node* AddNodeNamed(const Scope& s, const std::string& name, absl::string_view op,
                   const std::vector<std::vector<Output>>& args,
                   std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                   std::vector<PartialShape> shapes) {
  if (!s.ok()) return nullptr;
  Graph* g = s.graph();
  const ::tensorflow::OpDef* op_def = g->registry().Find(op);
  if (op_def == nullptr) {
    s.UpdateStatus(
        absl::NotFoundError(absl::StrCat("unknown op '", op, "' (node '", name, "')")));
    return nullptr;
  }
  if (static_cast<int>(args.size()) != op_def->input_arg_size()) {
    s.UpdateStatus(absl::InvalidArgumentError(
        absl::StrCat(op, " '", name, "': takes ", op_def->input_arg_size(),
                     " input argument(s), got ", args.size())));
    return nullptr;
  }
  ::tensorflow::NodeDef def;
  def.set_name(name);
  def.set_op(std::string(op));
  for (auto& [attr, value] : attrs) (*def.mutable_attr())[attr] = std::move(value);
  auto& def_attrs = *def.mutable_attr();
  for (int a = 0; a < op_def->input_arg_size(); ++a) {
    const auto& arg = op_def->input_arg(a);
    const std::vector<Output>& outs = args[a];
    for (const Output& o : outs) {
      if (!o.valid()) {
        s.UpdateStatus(absl::InvalidArgumentError(
            absl::StrCat(op, " '", name, "': input '", arg.name(),
                         "' is invalid (an earlier error)")));
        return nullptr;
      }
      def.add_input(InputName(o));
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
  for (const Operation& dep : s.control_deps()) {
    if (dep.valid()) def.add_input(absl::StrCat("^", dep.name()));
  }
  absl::StatusOr<Node*> node = g->AddNode(std::move(def));
  if (!node.ok()) {
    s.UpdateStatus(node.status());
    return nullptr;
  }
  for (size_t i = 0; i < shapes.size() && i < (*node)->output_shapes.size(); ++i) {
    (*node)->output_shapes[i] = std::move(shapes[i]);
  }
  return *node;
}

std::string PredictUniqueName(const Scope& s, absl::string_view base) {
  const std::string full = absl::StrCat(s.name_prefix(), base);
  const Graph* g = s.graph();
  if (!g->IsNameUsed(full)) return full;
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(full, "_", i);
    if (!g->IsNameUsed(candidate)) return candidate;
  }
}

Output FilledConst(const Scope& s, DType dtype, const TensorShape& shape, double value,
                   absl::string_view default_name) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  ::tensorflow::TensorProto* p = v.mutable_tensor();
  p->set_dtype(dtype);
  shape.ToProto(p->mutable_tensor_shape());
  switch (dtype) {
    case DT_FLOAT: p->add_float_val(static_cast<float>(value)); break;
    case DT_DOUBLE: p->add_double_val(value); break;
    case DT_HALF: p->add_half_val(FloatToHalfBits(static_cast<float>(value))); break;
    case DT_BFLOAT16: p->add_half_val(FloatToBfloat16Bits(static_cast<float>(value))); break;
    case DT_INT32:
    case DT_INT16:
    case DT_INT8:
    case DT_UINT8:
    case DT_UINT16: p->add_int_val(static_cast<int32_t>(value)); break;
    case DT_INT64: p->add_int64_val(static_cast<int64_t>(value)); break;
    case DT_UINT32: p->add_uint32_val(static_cast<uint32_t>(value)); break;
    case DT_UINT64: p->add_uint64_val(static_cast<uint64_t>(value)); break;
    case DT_BOOL: p->add_bool_val(value != 0); break;
    default:
      s.UpdateStatus(absl::UnimplementedError(
          absl::StrCat("a constant of dtype ", DTypeName(dtype), " cannot be built")));
      return Output();
  }
  ::tensorflow::AttrValue type;
  type.set_type(dtype);
  return Output(s.AddOp("Const", default_name, {}, {{"value", std::move(v)}, {"dtype", type}},
                        {PartialShape(shape)}));
}

Output IntListConst(const Scope& s, const std::vector<int64_t>& values, DType dtype,
                    absl::string_view default_name) {
  if (!s.ok()) return Output();
  ::tensorflow::AttrValue v;
  ::tensorflow::TensorProto* p = v.mutable_tensor();
  p->set_dtype(dtype);
  p->mutable_tensor_shape()->add_dim()->set_size(static_cast<int64_t>(values.size()));
  // TensorFlow's tensor_util packs lists of more than one element into
  // tensor_content and writes a single element as a typed value.
  if (values.size() == 1) {
    if (dtype == DT_INT64) {
      p->add_int64_val(values[0]);
    } else {
      p->add_int_val(static_cast<int32_t>(values[0]));
    }
  } else if (!values.empty()) {
    std::string bytes;
    if (dtype == DT_INT64) {
      bytes.resize(values.size() * 8);
      std::memcpy(&bytes[0], values.data(), bytes.size());
    } else {
      std::vector<int32_t> narrow(values.begin(), values.end());
      bytes.resize(narrow.size() * 4);
      std::memcpy(&bytes[0], narrow.data(), bytes.size());
    }
    p->set_tensor_content(bytes);
  }
  ::tensorflow::AttrValue type;
  type.set_type(dtype);
  return Output(s.AddOp("Const", default_name, {}, {{"value", std::move(v)}, {"dtype", type}},
                        {PartialShape({static_cast<int64_t>(values.size())})}));
}

bool CheckInputs(OpBuilder& b, std::initializer_list<Output> inputs) {
  if (!b.ok()) return false;
  int i = 0;
  for (const Output& o : inputs) {
    if (!o.valid()) {
      b.Fail(absl::StrCat("input ", i, " is invalid (a default-constructed Output)"));
      return false;
    }
    ++i;
  }
  return true;
}

bool IsTrainableDType(DType dtype) {
  switch (dtype) {
    case DT_FLOAT:
    case DT_DOUBLE:
    case DT_HALF:
    case DT_BFLOAT16:
    case DT_COMPLEX64:
    case DT_COMPLEX128:
      return true;
    default:
      return false;
  }
}

}  // namespace runtime
}  // namespace ckpt
