#include "ckpt/runtime/kernel.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/runtime/kernels/string_kernels.h"

namespace ckpt {
namespace runtime {

SessionState::SessionState(uint64_t default_seed) : default_seed_(default_seed) {}

VarSlot* SessionState::GetOrCreateVariable(const std::string& name, DType dtype) {
  auto it = variables_.find(name);
  if (it != variables_.end()) return it->second.get();
  auto slot = std::make_unique<VarSlot>();
  slot->name = name;
  slot->dtype = dtype;
  VarSlot* raw = slot.get();
  variables_.emplace(name, std::move(slot));
  return raw;
}

VarSlot* SessionState::FindVariable(absl::string_view name) {
  auto it = variables_.find(name);
  return it == variables_.end() ? nullptr : it->second.get();
}

absl::StatusOr<Tensor*> KernelContext::allocate_output(int i, DType dtype,
                                                       const TensorShape& shape) {
  absl::StatusOr<Tensor> t = Tensor::AllocateUninitialized(dtype, shape);
  if (!t.ok()) return t.status();
  OutputSlot& slot = (*outputs_)[i];
  slot.ref = nullptr;
  slot.value = *std::move(t);
  return &slot.value;
}

void KernelContext::set_output(int i, Tensor t) {
  OutputSlot& slot = (*outputs_)[i];
  slot.ref = nullptr;
  slot.value = std::move(t);
}

void KernelContext::set_ref_output(int i, VarSlot* var) {
  OutputSlot& slot = (*outputs_)[i];
  slot.ref = var;
  slot.value = Tensor();
}

const KernelRegistry& KernelRegistry::Global() {
  static const KernelRegistry* const registry = [] {
    auto* r = new KernelRegistry();
    RegisterStateKernels(r);
    RegisterMathKernels(r);
    RegisterNnKernels(r);
    RegisterTrainingKernels(r);
    RegisterArrayKernels(r);
    RegisterRandomKernels(r);
    RegisterIoKernels(r);
    RegisterStringKernels(r);
    return r;
  }();
  return *registry;
}

void KernelRegistry::Register(const std::string& op, KernelFactory factory) {
  kernels_[op] = factory;
}

KernelFactory KernelRegistry::Find(absl::string_view op) const {
  auto it = kernels_.find(op);
  return it == kernels_.end() ? nullptr : it->second;
}

std::vector<std::string> KernelRegistry::ListOps() const {
  std::vector<std::string> out;
  out.reserve(kernels_.size());
  for (const auto& [name, f] : kernels_) out.push_back(name);
  return out;
}

}  // namespace runtime
}  // namespace ckpt
