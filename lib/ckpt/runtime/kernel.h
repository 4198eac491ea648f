// CPU kernels: the code that computes one node. Private to the runtime.
//
// A kernel is made once per node per session (from the node's NodeDef, so it
// can read its attrs once) and then computed every time a Run needs the node:
//
//   class ReluOp : public OpKernel {
//    public:
//     explicit ReluOp(const KernelConstruction& c) {}
//     absl::Status Compute(KernelContext* ctx) override {
//       const Tensor& x = ctx->input(0);
//       CKPT_ASSIGN_OR_RETURN(Tensor* y, ctx->allocate_output(0, x.dtype(), x.shape()));
//       ...
//       return absl::OkStatus();
//     }
//   };
//   void RegisterNnKernels(KernelRegistry* r) {
//     r->Register("Relu", MakeKernel<ReluOp>);
//   }
//
// Errors are returned, never thrown or CHECKed: the executor adds the node's
// name and op to the message, so kernels say only what is wrong
// ("incompatible shapes [2,3] and [4]").
#ifndef CKPT_RUNTIME_KERNEL_H_
#define CKPT_RUNTIME_KERNEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/tensor.h"
#include "node_def.pb.h"
#include "op_def.pb.h"

namespace ckpt {
namespace runtime {

// A variable's storage in a session (the target of a reference edge).
struct VarSlot {
  std::string name;  // its node's name (or shared_name)
  DType dtype = DT_INVALID;
  Tensor value;      // valid once initialized
  bool initialized() const { return value.valid(); }
};

// Per-session state kernels may use.
class SessionState {
 public:
  explicit SessionState(uint64_t default_seed);
  // The variable named `name`, created (uninitialized) on first use.
  VarSlot* GetOrCreateVariable(const std::string& name, DType dtype);
  VarSlot* FindVariable(absl::string_view name);
  // Seed for random ops without graph or op seed.
  uint64_t default_seed() const { return default_seed_; }

 private:
  uint64_t default_seed_;
  std::map<std::string, std::unique_ptr<VarSlot>, std::less<>> variables_;
};

struct KernelConstruction {
  const ::tensorflow::NodeDef& def;
  const ::tensorflow::OpDef& op_def;
  const std::vector<DType>& input_types;   // value dtypes (refs resolved)
  const std::vector<DType>& output_types;
  SessionState* state;
};

// What a kernel sees while it computes.
class KernelContext {
 public:
  const ::tensorflow::NodeDef& def() const { return *def_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  // The value of input i (a reference input reads its variable's current
  // value; the executor has checked it is initialized unless the op allows
  // uninitialized inputs).
  const Tensor& input(int i) const { return *inputs_[i]; }
  // The variable behind a reference input (nullptr if input i is not one).
  VarSlot* ref_input(int i) const { return ref_inputs_[i]; }

  int num_outputs() const { return static_cast<int>(outputs_->size()); }
  // Allocates output i (contents uninitialized for fixed-size dtypes).
  absl::StatusOr<Tensor*> allocate_output(int i, DType dtype, const TensorShape& shape);
  // Sets output i to `t` (which may alias an input: Identity, Reshape).
  void set_output(int i, Tensor t);
  // Makes output i a reference to `var` (VariableV2, Assign).
  void set_ref_output(int i, VarSlot* var);

  SessionState* state() const { return state_; }

  // Executor side.
  struct OutputSlot {
    Tensor value;
    VarSlot* ref = nullptr;
  };
  // `inputs` and `ref_inputs` must outlive the context (no copies: the
  // executor makes one context per node per step).
  KernelContext(const ::tensorflow::NodeDef* def, absl::Span<const Tensor* const> inputs,
                absl::Span<VarSlot* const> ref_inputs, std::vector<OutputSlot>* outputs,
                SessionState* state)
      : def_(def), inputs_(inputs), ref_inputs_(ref_inputs), outputs_(outputs), state_(state) {}

 private:
  const ::tensorflow::NodeDef* def_;
  absl::Span<const Tensor* const> inputs_;
  absl::Span<VarSlot* const> ref_inputs_;
  std::vector<OutputSlot>* outputs_;
  SessionState* state_;
};

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual absl::Status Compute(KernelContext* ctx) = 0;
};

using KernelFactory =
    absl::StatusOr<std::unique_ptr<OpKernel>> (*)(const KernelConstruction& c);

// Adapts a kernel class constructible from KernelConstruction. For kernels
// whose constructor can fail, give the class a static
// `absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction&)`
// and register that instead.
template <typename K>
absl::StatusOr<std::unique_ptr<OpKernel>> MakeKernel(const KernelConstruction& c) {
  return std::unique_ptr<OpKernel>(new K(c));
}

class KernelRegistry {
 public:
  // Every kernel ckpt has (built on first use from the Register*Kernels
  // functions listed in kernels/all_kernels.cc).
  static const KernelRegistry& Global();
  void Register(const std::string& op, KernelFactory factory);
  KernelFactory Find(absl::string_view op) const;  // nullptr if none
  std::vector<std::string> ListOps() const;

 private:
  std::map<std::string, KernelFactory, std::less<>> kernels_;
};

// Attr access for kernel constructors and builders; InvalidArgument naming
// the attr when it is missing or of another type.
absl::StatusOr<DType> GetTypeAttr(const ::tensorflow::NodeDef& def, absl::string_view name);
absl::StatusOr<int64_t> GetIntAttr(const ::tensorflow::NodeDef& def, absl::string_view name);
absl::StatusOr<float> GetFloatAttr(const ::tensorflow::NodeDef& def, absl::string_view name);
absl::StatusOr<bool> GetBoolAttr(const ::tensorflow::NodeDef& def, absl::string_view name);
absl::StatusOr<std::string> GetStringAttr(const ::tensorflow::NodeDef& def,
                                          absl::string_view name);
absl::StatusOr<std::vector<int64_t>> GetIntListAttr(const ::tensorflow::NodeDef& def,
                                                    absl::string_view name);
absl::StatusOr<std::vector<DType>> GetTypeListAttr(const ::tensorflow::NodeDef& def,
                                                   absl::string_view name);
// A "tensor" attr decoded (see ckpt/tensor_proto.h).
absl::StatusOr<Tensor> GetTensorAttr(const ::tensorflow::NodeDef& def, absl::string_view name);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNEL_H_
