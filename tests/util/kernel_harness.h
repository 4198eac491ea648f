// Running one kernel outside a graph, for kernel unit tests.
//
//   using ckpt::testing::AttrList;
//   auto out = RunKernel("MatMul", AttrList().Bool("transpose_b", true),
//                        {TensorOf<float>({2, 3}, {...}), TensorOf<float>({4, 3}, {...})});
//   ASSERT_TRUE(out.ok()) << out.status();
//   EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{...}));
//
// The node is built as a graph builder would build it: type attrs that an
// input fixes (T, N, Tidx, ...) are taken from the inputs unless given, the
// OpDef's defaults are added, and the node is validated against the OpDef
// before the kernel is made. Ops without an OpDef still run (for kernels
// ahead of their OpDef), with input types taken from the inputs and
// `num_outputs` outputs.
//
// Reference inputs are given as a VarSlot*: the kernel reads and may update
// the slot, exactly as in a session.
#ifndef CKPT_TESTS_UTIL_KERNEL_HARNESS_H_
#define CKPT_TESTS_UTIL_KERNEL_HARNESS_H_

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attr_value.pb.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace testing {

// Node attributes, built fluently.
class AttrList {
 public:
  AttrList& Type(const std::string& name, DType value);
  AttrList& Bool(const std::string& name, bool value);
  AttrList& Int(const std::string& name, int64_t value);
  AttrList& Float(const std::string& name, float value);
  AttrList& Str(const std::string& name, const std::string& value);
  AttrList& IntList(const std::string& name, const std::vector<int64_t>& values);
  AttrList& TypeList(const std::string& name, const std::vector<DType>& values);
  AttrList& Set(const std::string& name, const ::tensorflow::AttrValue& value);

  const std::map<std::string, ::tensorflow::AttrValue>& attrs() const { return attrs_; }

 private:
  std::map<std::string, ::tensorflow::AttrValue> attrs_;
};

// One kernel input: a value, or a reference to a variable.
struct KernelInput {
  KernelInput(Tensor t) : value(std::move(t)) {}  // NOLINT: implicit by design
  KernelInput(runtime::VarSlot* slot) : ref(slot) {}  // NOLINT
  Tensor value;
  runtime::VarSlot* ref = nullptr;
};

struct KernelRunOptions {
  // Outputs of an op that has no OpDef (otherwise the OpDef says).
  int num_outputs = 1;
  // The session state the kernel sees; a fresh one (seed 0) when null.
  runtime::SessionState* state = nullptr;
};

// Builds, validates and computes the node; the output slots as the kernel
// left them. Errors: the kernel's own, or NotFound when no kernel exists
// for `op`, or the OpDef validation's InvalidArgument.
absl::StatusOr<std::vector<runtime::KernelContext::OutputSlot>> RunKernelSlots(
    const std::string& op, const AttrList& attrs, std::vector<KernelInput> inputs,
    const KernelRunOptions& options = KernelRunOptions());

// The output values (a reference output gives its variable's value).
// Internal error if the kernel leaves an output unset.
absl::StatusOr<std::vector<Tensor>> RunKernel(const std::string& op, const AttrList& attrs,
                                              std::vector<KernelInput> inputs,
                                              const KernelRunOptions& options = KernelRunOptions());

// A tensor of T's dtype (float, double, int32_t, int64_t, bool, uint8_t,
// int8_t, int16_t, uint16_t) with the given shape and row-major values.
template <typename T>
Tensor TensorOf(const TensorShape& shape, const std::vector<T>& values);
template <typename T>
Tensor Scalar(T value) {
  return TensorOf<T>(TensorShape(), {value});
}
// A DT_STRING tensor.
Tensor StringTensor(const TensorShape& shape, const std::vector<std::string>& values);

// The elements of `t` as T (empty if T is not t's element type).
template <typename T>
std::vector<T> Values(const Tensor& t);
template <>
std::vector<std::string> Values<std::string>(const Tensor& t);

// Bit patterns of floats, to compare results exactly (NaN and -0 included).
std::vector<uint32_t> Bits(const std::vector<float>& values);

}  // namespace testing
}  // namespace ckpt

#endif  // CKPT_TESTS_UTIL_KERNEL_HARNESS_H_
