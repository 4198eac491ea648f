// Gradients of the array ops (TensorFlow's array_grad.py), and the ops
// through which no gradient flows.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/internal_ops.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/gradients.h"
#include "ckpt/runtime/gradients/register.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace runtime {
namespace {

using Grads = std::vector<Output>;

int64_t IntAttr(const GradOp& op, const char* name) {
  auto it = op.def().attr().find(name);
  return it == op.def().attr().end() ? 0 : it->second.i();
}

absl::Status IdentityGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = grads[0];
  return absl::OkStatus();
}

// Reshape, ExpandDims, Squeeze: the gradient has the input's shape.
absl::Status ReshapeToInputGrad(const Scope& s, const GradOp& op, const Grads& grads,
                                Grads* out) {
  (*out)[0] = ops::Reshape(s, grads[0], ops::Shape(s, op.inputs[0]));
  return absl::OkStatus();
}

absl::Status TransposeGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  std::optional<std::vector<int64_t>> perm = ConstantIntValue(*s.graph(), op.inputs[1]);
  if (!perm) {
    // TensorFlow inverts the permutation at run time (InvertPermutation),
    // an op ckpt does not have.
    return absl::UnimplementedError(
        "the gradient of Transpose needs a permutation known when the graph is built");
  }
  std::vector<int64_t> inverse(perm->size());
  for (size_t i = 0; i < perm->size(); ++i) {
    const int64_t p = (*perm)[i];
    if (p < 0 || p >= static_cast<int64_t>(perm->size())) {
      return absl::InvalidArgumentError("the permutation of Transpose is out of range");
    }
    inverse[p] = static_cast<int64_t>(i);
  }
  (*out)[0] = TransposeConst(s, grads[0], inverse);
  return absl::OkStatus();
}

absl::Status ConcatV2Grad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const int n = static_cast<int>(op.inputs.size()) - 1;
  std::optional<std::vector<int64_t>> axis = ConstantIntValue(*s.graph(), op.inputs[n]);
  int rank = -1;
  bool all_defined = true;
  for (int i = 0; i < n; ++i) {
    const PartialShape& sh = op.inputs[i].shape();
    if (!sh.unknown_rank()) rank = sh.rank();
    if (!sh.IsFullyDefined()) all_defined = false;
  }
  if (!axis || axis->size() != 1 || rank < 0) {
    // TensorFlow computes the offsets at run time with ConcatOffset, an op
    // ckpt does not have.
    return absl::UnimplementedError(
        "the gradient of ConcatV2 needs a constant axis and inputs of known rank");
  }
  const int64_t ax = (*axis)[0] < 0 ? (*axis)[0] + rank : (*axis)[0];
  if (ax < 0 || ax >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("concat axis ", (*axis)[0], " is out of range for rank ", rank));
  }
  std::vector<Output> sizes(n);
  for (int i = 0; i < n; ++i) sizes[i] = ops::Shape(s, op.inputs[i]);
  if (all_defined) {
    int64_t offset = 0;
    for (int i = 0; i < n; ++i) {
      std::vector<int64_t> begin(rank, 0);
      begin[ax] = offset;
      offset += op.inputs[i].shape().dim(static_cast<int>(ax));
      (*out)[i] = ops::Slice(s, grads[0], IntListConst(s, begin), sizes[i]);
    }
    return absl::OkStatus();
  }
  std::vector<int64_t> mask_v(rank, 0);
  mask_v[ax] = 1;
  Output mask = IntListConst(s, mask_v);
  Output begin = IntListConst(s, std::vector<int64_t>(rank, 0));
  for (int i = 0; i < n; ++i) {
    (*out)[i] = ops::Slice(s, grads[0], begin, sizes[i]);
    if (i + 1 < n) begin = ops::Add(s, begin, ops::Mul(s, sizes[i], mask));
  }
  return absl::OkStatus();
}

absl::Status PackGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const int n = static_cast<int>(op.inputs.size());
  std::vector<Output> parts =
      Unstack(s, grads[0], n, static_cast<int>(IntAttr(op, "axis")));
  for (int i = 0; i < n; ++i) (*out)[i] = parts[i];
  return absl::OkStatus();
}

absl::Status UnpackGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::Pack(s, grads, static_cast<int>(IntAttr(op, "axis")));
  return absl::OkStatus();
}

absl::Status TileGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  // Interleave multiples and the input shape ([m0, d0, m1, d1, ...]),
  // reshape the gradient to that, and sum over the multiples' axes.
  const Output& x = op.inputs[0];
  const Output& multiples = op.inputs[1];
  Output input_shape = ops::Shape(s, x, multiples.dtype());
  Output stacked = ops::Pack(s, {multiples, input_shape}, 0);
  Output split_shape = ops::Reshape(s, TransposeConst(s, stacked, {1, 0}), std::vector<int32_t>{-1});
  Output axes = RangeFromLimit(s, 0, ops::Size(s, split_shape, multiples.dtype()), 2);
  Output grad = ops::Sum(s, ops::Reshape(s, grads[0], split_shape), axes);
  (*out)[0] = grad;
  return absl::OkStatus();
}

}  // namespace

void RegisterArrayGradients(GradientRegistry* r) {
  r->Register("Identity", IdentityGrad);
  r->Register("PlaceholderWithDefault", IdentityGrad);
  r->Register("Reshape", ReshapeToInputGrad);
  r->Register("ExpandDims", ReshapeToInputGrad);
  r->Register("Squeeze", ReshapeToInputGrad);
  r->Register("Transpose", TransposeGrad);
  r->Register("ConcatV2", ConcatV2Grad);
  r->Register("Pack", PackGrad);
  r->Register("Unpack", UnpackGrad);
  r->Register("Tile", TileGrad);
  for (const char* op : {"StopGradient", "Shape", "Size", "Rank", "ZerosLike", "OnesLike",
                         "Const", "Placeholder", "VariableV2", "Variable",
                         "BroadcastGradientArgs", "RandomStandardNormal", "TruncatedNormal",
                         "RandomUniform", "OneHot", "NoOp"}) {
    r->RegisterNoGradient(op);
  }
}

}  // namespace runtime
}  // namespace ckpt
