#include "util/kernel_harness.h"

#include <memory>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernels/type_dispatch.h"
#include "ckpt/runtime/op_registry.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace testing {

using runtime::KernelContext;
using runtime::VarSlot;

AttrList& AttrList::Type(const std::string& name, DType value) {
  attrs_[name].set_type(value);
  return *this;
}
AttrList& AttrList::Bool(const std::string& name, bool value) {
  attrs_[name].set_b(value);
  return *this;
}
AttrList& AttrList::Int(const std::string& name, int64_t value) {
  attrs_[name].set_i(value);
  return *this;
}
AttrList& AttrList::Float(const std::string& name, float value) {
  attrs_[name].set_f(value);
  return *this;
}
AttrList& AttrList::Str(const std::string& name, const std::string& value) {
  attrs_[name].set_s(value);
  return *this;
}
AttrList& AttrList::IntList(const std::string& name, const std::vector<int64_t>& values) {
  auto* list = attrs_[name].mutable_list();
  list->clear_i();
  for (int64_t v : values) list->add_i(v);
  return *this;
}
AttrList& AttrList::TypeList(const std::string& name, const std::vector<DType>& values) {
  auto* list = attrs_[name].mutable_list();
  list->clear_type();
  for (DType v : values) list->add_type(v);
  return *this;
}
AttrList& AttrList::Set(const std::string& name, const ::tensorflow::AttrValue& value) {
  attrs_[name] = value;
  return *this;
}

namespace {

DType InputDType(const KernelInput& in) {
  if (in.ref == nullptr) return in.value.dtype();
  return in.ref->initialized() ? in.ref->value.dtype() : in.ref->dtype;
}

// Sets the attrs an input argument determines (its type attr, number attr
// or type list attr) from the inputs themselves, unless already set.
absl::Status InferAttrsFromInputs(const ::tensorflow::OpDef& op_def,
                                  const std::vector<KernelInput>& inputs,
                                  ::tensorflow::NodeDef* node) {
  auto* attrs = node->mutable_attr();
  const int num_args = op_def.input_arg_size();
  // Each argument's length; -1 where the inputs must tell.
  std::vector<int64_t> lengths(num_args, 1);
  int unknown = -1;
  int64_t known_total = 0;
  for (int a = 0; a < num_args; ++a) {
    const auto& arg = op_def.input_arg(a);
    if (!arg.number_attr().empty()) {
      auto it = attrs->find(arg.number_attr());
      lengths[a] = it != attrs->end() ? it->second.i() : -1;
    } else if (!arg.type_list_attr().empty()) {
      auto it = attrs->find(arg.type_list_attr());
      lengths[a] = it != attrs->end() ? it->second.list().type_size() : -1;
    }
    if (lengths[a] < 0) {
      if (unknown >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "harness: cannot infer the lengths of two list arguments of ", op_def.name(),
            "; give the attrs"));
      }
      unknown = a;
    } else {
      known_total += lengths[a];
    }
  }
  if (unknown >= 0) lengths[unknown] = static_cast<int64_t>(inputs.size()) - known_total;
  int64_t next = 0;
  for (int a = 0; a < num_args; ++a) {
    const auto& arg = op_def.input_arg(a);
    const int64_t begin = next;
    next += lengths[a];
    if (lengths[a] < 0 || next > static_cast<int64_t>(inputs.size())) {
      return absl::InvalidArgumentError(absl::StrCat("harness: ", inputs.size(),
                                                     " inputs are too few for ", op_def.name()));
    }
    if (!arg.number_attr().empty() && attrs->find(arg.number_attr()) == attrs->end()) {
      (*attrs)[arg.number_attr()].set_i(lengths[a]);
    }
    if (!arg.type_list_attr().empty() && attrs->find(arg.type_list_attr()) == attrs->end()) {
      auto* list = (*attrs)[arg.type_list_attr()].mutable_list();
      for (int64_t i = begin; i < next; ++i) list->add_type(InputDType(inputs[i]));
    }
    if (!arg.type_attr().empty() && lengths[a] > 0 &&
        attrs->find(arg.type_attr()) == attrs->end()) {
      (*attrs)[arg.type_attr()].set_type(InputDType(inputs[begin]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<KernelContext::OutputSlot>> RunKernelSlots(
    const std::string& op, const AttrList& attrs, std::vector<KernelInput> inputs,
    const KernelRunOptions& options) {
  ::tensorflow::NodeDef node;
  node.set_name(absl::StrCat(op, "_under_test"));
  node.set_op(op);
  for (const auto& [name, value] : attrs.attrs()) (*node.mutable_attr())[name] = value;
  for (size_t i = 0; i < inputs.size(); ++i) node.add_input(absl::StrCat("input_", i));

  std::vector<DType> input_types, output_types;
  int num_outputs = options.num_outputs;
  static const ::tensorflow::OpDef* const kNoOpDef = new ::tensorflow::OpDef();
  const ::tensorflow::OpDef* op_def = OpRegistry::Global().Find(op);
  if (op_def != nullptr) {
    CKPT_RETURN_IF_ERROR(InferAttrsFromInputs(*op_def, inputs, &node));
    AddDefaultAttrs(*op_def, &node);
    CKPT_ASSIGN_OR_RETURN(NodeSignature sig, ValidateNode(*op_def, node));
    for (size_t i = 0; i < inputs.size() && i < sig.input_is_ref.size(); ++i) {
      if (sig.input_is_ref[i] != (inputs[i].ref != nullptr)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "harness: input ", i, " of ", op, sig.input_is_ref[i] ? " must" : " must not",
            " be a variable reference"));
      }
    }
    input_types = sig.input_types;
    output_types = sig.output_types;
    num_outputs = static_cast<int>(output_types.size());
  } else {
    op_def = kNoOpDef;
    for (const KernelInput& in : inputs) input_types.push_back(InputDType(in));
  }

  runtime::KernelFactory factory = runtime::KernelRegistry::Global().Find(op);
  if (factory == nullptr) return absl::NotFoundError(absl::StrCat("no kernel for op ", op));
  std::unique_ptr<runtime::SessionState> own_state;
  runtime::SessionState* state = options.state;
  if (state == nullptr) {
    own_state = std::make_unique<runtime::SessionState>(0);
    state = own_state.get();
  }
  runtime::KernelConstruction construction{node, *op_def, input_types, output_types, state};
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<runtime::OpKernel> kernel, factory(construction));

  std::vector<const Tensor*> values;
  std::vector<VarSlot*> refs;
  for (KernelInput& in : inputs) {
    values.push_back(in.ref != nullptr ? &in.ref->value : &in.value);
    refs.push_back(in.ref);
  }
  std::vector<KernelContext::OutputSlot> outputs(num_outputs);
  KernelContext ctx(&node, values, refs, &outputs, state);
  CKPT_RETURN_IF_ERROR(kernel->Compute(&ctx));
  return outputs;
}

absl::StatusOr<std::vector<Tensor>> RunKernel(const std::string& op, const AttrList& attrs,
                                              std::vector<KernelInput> inputs,
                                              const KernelRunOptions& options) {
  CKPT_ASSIGN_OR_RETURN(auto slots, RunKernelSlots(op, attrs, std::move(inputs), options));
  std::vector<Tensor> out;
  for (size_t i = 0; i < slots.size(); ++i) {
    Tensor t = slots[i].ref != nullptr ? slots[i].ref->value : slots[i].value;
    if (!t.valid()) {
      return absl::InternalError(absl::StrCat(op, " left output ", i, " unset"));
    }
    out.push_back(std::move(t));
  }
  return out;
}

template <typename T>
Tensor TensorOf(const TensorShape& shape, const std::vector<T>& values) {
  Tensor t(runtime::DTypeOf<T>(), shape);
  absl::Span<T> dst = t.mutable_flat<T>();
  for (size_t i = 0; i < values.size() && i < dst.size(); ++i) dst[i] = values[i];
  return t;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  if (t.dtype() != runtime::DTypeOf<T>()) return {};
  absl::Span<const T> src = t.flat<T>();
  return std::vector<T>(src.begin(), src.end());
}

Tensor StringTensor(const TensorShape& shape, const std::vector<std::string>& values) {
  Tensor t(DT_STRING, shape);
  std::vector<std::string>* dst = t.mutable_strings();
  for (size_t i = 0; i < values.size() && i < dst->size(); ++i) (*dst)[i] = values[i];
  return t;
}

template <>
std::vector<std::string> Values<std::string>(const Tensor& t) {
  return t.strings();
}

std::vector<uint32_t> Bits(const std::vector<float>& values) {
  std::vector<uint32_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) std::memcpy(&bits[i], &values[i], sizeof(float));
  return bits;
}

#define CKPT_HARNESS_INSTANTIATE(T)                                           \
  template Tensor TensorOf<T>(const TensorShape&, const std::vector<T>&); \
  template std::vector<T> Values<T>(const Tensor&);
CKPT_HARNESS_INSTANTIATE(float)
CKPT_HARNESS_INSTANTIATE(double)
CKPT_HARNESS_INSTANTIATE(int32_t)
CKPT_HARNESS_INSTANTIATE(int64_t)
CKPT_HARNESS_INSTANTIATE(bool)
CKPT_HARNESS_INSTANTIATE(uint8_t)
CKPT_HARNESS_INSTANTIATE(int8_t)
CKPT_HARNESS_INSTANTIATE(int16_t)
CKPT_HARNESS_INSTANTIATE(uint16_t)
#undef CKPT_HARNESS_INSTANTIATE

}  // namespace testing
}  // namespace ckpt
