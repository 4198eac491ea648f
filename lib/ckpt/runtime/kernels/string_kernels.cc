// String kernels. Shard names follow TensorFlow's: "<basename>-00001-of-00004"
// for one shard, "<basename>-?????-of-00004" as the pattern of all of them.
#include "ckpt/runtime/kernels/string_kernels.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

// Joins the N inputs element by element, `separator` between them. Inputs
// are all of one shape or scalars; a scalar joins into every element.
class StringJoinOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    std::string separator;
    if (c.def.attr().count("separator") > 0) {
      CKPT_ASSIGN_OR_RETURN(separator, GetStringAttr(c.def, "separator"));
    }
    return std::unique_ptr<OpKernel>(new StringJoinOp(std::move(separator)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs();
    const TensorShape* shape = nullptr;
    for (int i = 0; i < n; ++i) {
      const Tensor& in = ctx->input(i);
      if (in.dtype() != DT_STRING) {
        return absl::InvalidArgumentError(
            absl::StrCat("input ", i, " is ", DTypeName(in.dtype()), ", not string"));
      }
      if (in.shape().rank() == 0) continue;
      if (shape == nullptr) {
        shape = &in.shape();
      } else if (*shape != in.shape()) {
        return absl::InvalidArgumentError(
            absl::StrCat("inputs must be scalars or of one shape: ", shape->DebugString(),
                         " vs. ", in.shape().DebugString(), " (input ", i, ")"));
      }
    }
    const TensorShape out_shape = shape != nullptr ? *shape : TensorShape();
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, DT_STRING, out_shape));
    std::vector<std::string>& o = *out->mutable_strings();
    for (size_t e = 0; e < o.size(); ++e) {
      std::string& s = o[e];
      for (int i = 0; i < n; ++i) {
        const Tensor& in = ctx->input(i);
        if (i > 0) s += separator_;
        s += in.strings()[in.shape().rank() == 0 ? 0 : e];
      }
    }
    return absl::OkStatus();
  }

 private:
  explicit StringJoinOp(std::string separator) : separator_(std::move(separator)) {}
  std::string separator_;
};

absl::StatusOr<std::string> ScalarString(const Tensor& t, absl::string_view what) {
  if (t.dtype() != DT_STRING || t.shape().rank() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a string scalar, not ", t.DebugString()));
  }
  return t.strings()[0];
}

absl::StatusOr<int32_t> ScalarInt32(const Tensor& t, absl::string_view what) {
  if (t.dtype() != DT_INT32 || t.shape().rank() != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be an int32 scalar, not ", t.DebugString()));
  }
  return t.flat<int32_t>()[0];
}

absl::Status SetStringOutput(KernelContext* ctx, std::string value) {
  CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, DT_STRING, TensorShape()));
  (*out->mutable_strings())[0] = std::move(value);
  return absl::OkStatus();
}

class ShardedFilenameOp : public OpKernel {
 public:
  explicit ShardedFilenameOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(std::string basename, ScalarString(ctx->input(0), "basename"));
    CKPT_ASSIGN_OR_RETURN(int32_t shard, ScalarInt32(ctx->input(1), "shard"));
    CKPT_ASSIGN_OR_RETURN(int32_t num_shards, ScalarInt32(ctx->input(2), "num_shards"));
    return SetStringOutput(ctx, absl::StrFormat("%s-%05d-of-%05d", basename, shard, num_shards));
  }
};

class ShardedFilespecOp : public OpKernel {
 public:
  explicit ShardedFilespecOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(std::string basename, ScalarString(ctx->input(0), "basename"));
    CKPT_ASSIGN_OR_RETURN(int32_t num_shards, ScalarInt32(ctx->input(1), "num_shards"));
    // Split so that no "??-" trigraph appears in a literal.
    return SetStringOutput(
        ctx, absl::StrCat(basename, "-?????", absl::StrFormat("-of-%05d", num_shards)));
  }
};

}  // namespace

void RegisterStringKernels(KernelRegistry* r) {
  r->Register("StringJoin", StringJoinOp::Create);
  r->Register("ShardedFilename", MakeKernel<ShardedFilenameOp>);
  r->Register("ShardedFilespec", MakeKernel<ShardedFilespecOp>);
}

}  // namespace runtime
}  // namespace ckpt
