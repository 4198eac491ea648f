// Kernels of the checkpoint ops: SaveV2, RestoreV2, MergeV2Checkpoints, and
// the V1 ops, which are recognized but not run.
//
// Files go through Env::Default(): a kernel has no other Env to use. A save
// is crash-safe because BundleWriter writes temporaries and renames them
// into place; a restore reads every value through BundleReader, which
// verifies checksums, and always copies (never hands out a view of the
// mapped file): the value becomes a variable that training updates in place.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor_slice.h"

namespace ckpt {
namespace runtime {
namespace {

// The scalar string input `i` (a prefix); InvalidArgument naming the input.
absl::StatusOr<std::string> ScalarString(const KernelContext& ctx, int i, absl::string_view what) {
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DT_STRING || t.NumElements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be a single string, got ", DTypeName(t.dtype()), t.shape().DebugString()));
  }
  return t.strings()[0];
}

// The 1-D (or scalar) string input `i` holding `n` entries.
absl::StatusOr<const std::vector<std::string>*> StringList(const KernelContext& ctx, int i,
                                                           absl::string_view what, int64_t n) {
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DT_STRING || t.shape().rank() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be a 1-D string tensor, got ", DTypeName(t.dtype()), t.shape().DebugString()));
  }
  if (t.NumElements() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has ", t.NumElements(), " entries, expected ", n));
  }
  return &t.strings();
}

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// The checkpoint is V1 when there is no index but a file at the prefix.
bool IsV1Checkpoint(const std::string& prefix) {
  Env* env = Env::Default();
  return !env->FileExists(IndexFilename(prefix)) && env->FileExists(prefix) &&
         !env->IsDirectory(prefix);
}

class SaveV2Op : public OpKernel {
 public:
  explicit SaveV2Op(const KernelConstruction& c) {}

  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(std::string prefix, ScalarString(*ctx, 0, "prefix"));
    const int64_t n = ctx->num_inputs() - 3;
    CKPT_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                          StringList(*ctx, 1, "tensor_names", n));
    CKPT_ASSIGN_OR_RETURN(const std::vector<std::string>* specs,
                          StringList(*ctx, 2, "shape_and_slices", n));
    BundleWriter writer(prefix);
    for (int64_t i = 0; i < n; ++i) {
      const std::string& name = (*names)[i];
      const Tensor& value = ctx->input(static_cast<int>(3 + i));
      const std::string where = absl::StrCat("saving tensor '", name, "' to ", prefix);
      if ((*specs)[i].empty()) {
        absl::Status s = writer.Add(name, value);
        if (!s.ok()) return Annotate(s, where);
        continue;
      }
      TensorShape full_shape;
      TensorSlice slice;
      absl::Status s = ParseShapeAndSlice((*specs)[i], &full_shape, &slice);
      if (!s.ok()) return Annotate(s, where);
      CKPT_ASSIGN_OR_RETURN(TensorShape slice_shape, slice.SliceShape(full_shape));
      if (slice_shape != value.shape()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": the slice '", (*specs)[i], "' has shape ", slice_shape.DebugString(),
            " but the tensor given for it has shape ", value.shape().DebugString()));
      }
      s = writer.AddSlice(name, full_shape, slice, value);
      if (!s.ok()) return Annotate(s, where);
    }
    absl::Status s = writer.Finish();
    if (!s.ok()) return Annotate(s, absl::StrCat("saving checkpoint ", prefix));
    return absl::OkStatus();
  }
};

class RestoreV2Op : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(std::vector<DType> dtypes, GetTypeListAttr(c.def, "dtypes"));
    return std::unique_ptr<OpKernel>(new RestoreV2Op(std::move(dtypes)));
  }

  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(std::string prefix, ScalarString(*ctx, 0, "prefix"));
    const int64_t n = static_cast<int64_t>(dtypes_.size());
    CKPT_ASSIGN_OR_RETURN(const std::vector<std::string>* names,
                          StringList(*ctx, 1, "tensor_names", n));
    CKPT_ASSIGN_OR_RETURN(const std::vector<std::string>* specs,
                          StringList(*ctx, 2, "shape_and_slices", n));
    absl::StatusOr<std::unique_ptr<BundleReader>> reader = BundleReader::Open(prefix);
    if (!reader.ok()) {
      if (IsV1Checkpoint(prefix)) {
        return absl::UnimplementedError(absl::StrCat(
            prefix, " is a legacy V1 checkpoint; reading V1 checkpoints is not supported yet"));
      }
      return reader.status();
    }
    for (int64_t i = 0; i < n; ++i) {
      const std::string& name = (*names)[i];
      const std::string where = absl::StrCat("restoring tensor '", name, "' from ", prefix);
      absl::StatusOr<BundleEntryInfo> entry = (*reader)->GetEntry(name);
      if (!entry.ok()) return Annotate(entry.status(), where);
      if (entry->dtype != dtypes_[i]) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": the checkpoint holds ", DTypeName(entry->dtype), entry->shape.DebugString(),
            " but the restore op expects ", DTypeName(dtypes_[i])));
      }
      absl::StatusOr<Tensor> value;
      if ((*specs)[i].empty()) {
        value = (*reader)->Read(name);
      } else {
        TensorShape full_shape;
        TensorSlice slice;
        absl::Status s = ParseShapeAndSlice((*specs)[i], &full_shape, &slice);
        if (!s.ok()) return Annotate(s, where);
        if (full_shape != entry->shape) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": the slice '", (*specs)[i], "' is of a tensor of shape ",
              full_shape.DebugString(), " but the checkpoint's has shape ",
              entry->shape.DebugString()));
        }
        value = (*reader)->ReadSlice(name, slice);
      }
      if (!value.ok()) return Annotate(value.status(), where);
      ctx->set_output(static_cast<int>(i), *std::move(value));
    }
    return absl::OkStatus();
  }

 private:
  explicit RestoreV2Op(std::vector<DType> dtypes) : dtypes_(std::move(dtypes)) {}
  std::vector<DType> dtypes_;
};

class MergeV2CheckpointsOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    bool delete_old_dirs = true;
    if (c.def.attr().count("delete_old_dirs") > 0) {
      CKPT_ASSIGN_OR_RETURN(delete_old_dirs, GetBoolAttr(c.def, "delete_old_dirs"));
    }
    return std::unique_ptr<OpKernel>(new MergeV2CheckpointsOp(delete_old_dirs));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& prefixes = ctx->input(0);
    if (prefixes.dtype() != DT_STRING || prefixes.shape().rank() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint_prefixes must be a 1-D string tensor, got ",
                       DTypeName(prefixes.dtype()), prefixes.shape().DebugString()));
    }
    CKPT_ASSIGN_OR_RETURN(std::string destination, ScalarString(*ctx, 1, "destination_prefix"));
    absl::Status s =
        MergeBundles(Env::Default(), prefixes.strings(), destination, delete_old_dirs_);
    if (!s.ok()) return Annotate(s, absl::StrCat("merging checkpoints into ", destination));
    return absl::OkStatus();
  }

 private:
  explicit MergeV2CheckpointsOp(bool delete_old_dirs) : delete_old_dirs_(delete_old_dirs) {}
  bool delete_old_dirs_;
};

// Save, SaveSlices, Restore, RestoreSlice: the V1 format (one SSTable of
// SavedTensorSlices) is not written or read by these kernels yet.
class LegacyCheckpointOp : public OpKernel {
 public:
  explicit LegacyCheckpointOp(const KernelConstruction& c) {}
  absl::Status Compute(KernelContext* ctx) override {
    return absl::UnimplementedError(absl::StrCat("legacy V1 checkpoints (op ", ctx->def().op(),
                                                 " in node ", ctx->def().name(),
                                                 ") are not supported yet"));
  }
};

}  // namespace

void RegisterIoKernels(KernelRegistry* r) {
  r->Register("SaveV2", MakeKernel<SaveV2Op>);
  r->Register("RestoreV2", RestoreV2Op::Create);
  r->Register("MergeV2Checkpoints", MergeV2CheckpointsOp::Create);
  for (const char* op : {"Save", "SaveSlices", "Restore", "RestoreSlice"}) {
    r->Register(op, MakeKernel<LegacyCheckpointOp>);
  }
}

}  // namespace runtime
}  // namespace ckpt
