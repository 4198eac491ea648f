// Gradients of the math ops, built as TensorFlow 1.x's math_grad.py builds
// them (same ops, same order, so the same node names). Where TensorFlow
// uses an op ckpt does not define (DynamicStitch for reduced shapes), the
// same values are computed from ops it does.
#include <algorithm>
#include <cstdint>
#include <numeric>
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

bool BoolAttr(const GradOp& op, const char* name) {
  auto it = op.def().attr().find(name);
  return it != op.def().attr().end() && it->second.b();
}

// Shapes of x and y and the axes along which each was broadcast.
struct Broadcast {
  Output sx, sy, rx, ry;
};

Broadcast BroadcastArgs(const Scope& s, const Output& x, const Output& y) {
  Broadcast b;
  b.sx = ops::Shape(s, x);
  b.sy = ops::Shape(s, y);
  std::vector<Output> r = ops::BroadcastGradientArgs(s, b.sx, b.sy);
  b.rx = r[0];
  b.ry = r[1];
  return b;
}

// reshape(reduce_sum(g, axes), shape): the gradient of a broadcast input.
Output SumToShape(const Scope& s, Output g, Output axes, Output shape) {
  return ops::Reshape(s, ops::Sum(s, g, axes), shape);
}

absl::Status AddGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  Broadcast b = BroadcastArgs(s, op.inputs[0], op.inputs[1]);
  (*out)[0] = SumToShape(s, grads[0], b.rx, b.sx);
  (*out)[1] = SumToShape(s, grads[0], b.ry, b.sy);
  return absl::OkStatus();
}

absl::Status SubGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  Broadcast b = BroadcastArgs(s, op.inputs[0], op.inputs[1]);
  (*out)[0] = SumToShape(s, grads[0], b.rx, b.sx);
  (*out)[1] = ops::Reshape(s, ops::Neg(s, ops::Sum(s, grads[0], b.ry)), b.sy);
  return absl::OkStatus();
}

absl::Status MulGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const Output& x = op.inputs[0];
  const Output& y = op.inputs[1];
  Broadcast b = BroadcastArgs(s, x, y);
  (*out)[0] = SumToShape(s, ops::Mul(s, grads[0], y), b.rx, b.sx);
  (*out)[1] = SumToShape(s, ops::Mul(s, x, grads[0]), b.ry, b.sy);
  return absl::OkStatus();
}

// math_ops.realdiv, which names its node after the op.
Output RealDivOp(const Scope& s, Output x, Output y) {
  return ops::RealDiv(s.WithOpName("RealDiv"), x, y);
}

absl::Status RealDivGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const Output& x = op.inputs[0];
  const Output& y = op.inputs[1];
  Broadcast b = BroadcastArgs(s, x, y);
  (*out)[0] = SumToShape(s, RealDivOp(s, grads[0], y), b.rx, b.sx);
  Output dy = ops::Mul(s, grads[0], RealDivOp(s, RealDivOp(s, ops::Neg(s, x), y), y));
  (*out)[1] = SumToShape(s, dy, b.ry, b.sy);
  return absl::OkStatus();
}

// array_ops.zeros(shape_tensor, dtype): "zeros/Const" filled into "zeros".
Output ZerosOfShape(const Scope& s, Output shape, DType dtype, const PartialShape& static_shape) {
  OpBuilder z(s, "Fill", "zeros");
  if (!z.ok()) return Output();
  Output zero = ScalarConst(z.ArgScope("Const"), dtype, 0);
  if (!CheckInputs(z, {shape, zero})) return Output();
  z.Input(shape).Input(zero);
  return z.FinishOutput(static_shape);
}

// Maximum and Minimum: the gradient goes to whichever input was selected
// (x on ties).
absl::Status MaxMinGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out,
                        bool is_max) {
  const Output& x = op.inputs[0];
  const Output& y = op.inputs[1];
  const Output& g = grads[0];
  Output sx = ops::Shape(s, x);
  Output sy = ops::Shape(s, y);
  Output gshape = ops::Shape(s, g);
  Output zeros = ZerosOfShape(s, gshape, g.dtype(), g.shape());
  Output xmask = is_max ? GreaterEqual(s, x, y) : LessEqual(s, x, y);
  std::vector<Output> r = ops::BroadcastGradientArgs(s, sx, sy);
  Output xgrad = Select(s, xmask, g, zeros);
  Output ygrad = Select(s, LogicalNot(s, xmask), g, zeros);
  (*out)[0] = SumToShape(s, xgrad, r[0], sx);
  (*out)[1] = SumToShape(s, ygrad, r[1], sy);
  return absl::OkStatus();
}

absl::Status MaximumGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  return MaxMinGrad(s, op, grads, out, true);
}
absl::Status MinimumGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  return MaxMinGrad(s, op, grads, out, false);
}

absl::Status NegGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::Neg(s, grads[0]);
  return absl::OkStatus();
}

absl::Status SquareGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  // grad * (2 * x), with the constant made under a control dependency on
  // the incoming gradient so 2 * x is not computed early.
  const Output& x = op.inputs[0];
  OpBuilder b(s, "Mul", "mul");
  if (!b.ok()) return absl::OkStatus();
  Output two = ScalarConst(b.ArgScope("x", {Operation(grads[0])}), x.dtype(), 2.0);
  Output two_x = FinishBinary(b, two, x);
  (*out)[0] = ops::Mul(s, grads[0], two_x);
  return absl::OkStatus();
}

// Both from the forward output y, not x: d sqrt(x) = 1 / (2 y) and
// d x^(-1/2) = -y^3 / 2.
absl::Status SqrtGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = runtime::SqrtGrad(s, op.output(0), grads[0]);
  return absl::OkStatus();
}

absl::Status RsqrtGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = runtime::RsqrtGrad(s, op.output(0), grads[0]);
  return absl::OkStatus();
}

absl::Status ExpGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = ops::Mul(s, grads[0], op.output(0));
  return absl::OkStatus();
}

absl::Status LogGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  Output inv = Reciprocal(s.WithControlDependencies({Operation(grads[0])}), op.inputs[0]);
  (*out)[0] = ops::Mul(s, grads[0], inv);
  return absl::OkStatus();
}

absl::Status AbsGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  Output sign = ops::Sign(s, op.inputs[0]);
  (*out)[0] = ops::Mul(s, grads[0], sign);
  return absl::OkStatus();
}

absl::Status SignGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const Output& x = op.inputs[0];
  (*out)[0] = ZerosOfShape(s, ops::Shape(s, x), x.dtype(), x.shape());
  return absl::OkStatus();
}

absl::Status PowGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const Output& x = op.inputs[0];
  const Output& y = op.inputs[1];
  const Output z = op.output(0);
  const Output& g = grads[0];
  Broadcast b = BroadcastArgs(s, x, y);
  // dz/dx = y * x^(y-1)
  Output gy_term = ops::Mul(s, g, y);
  Output pow = ops::Pow(s, x, BinaryScalarY(s, "Sub", "sub", y, 1));
  (*out)[0] = SumToShape(s, ops::Mul(s, gy_term, pow), b.rx, b.sx);
  // dz/dy = z * log(x), taken as 0 where x <= 0 (no false singularity at 0).
  Output mask = BinaryScalarY(s, "Greater", "Greater", x, 0);
  Output log_x = Select(s, mask, ops::Log(s, x), ops::ZerosLike(s, x));
  Output dy = ops::Mul(s, ops::Mul(s, g, z), log_x);
  (*out)[1] = SumToShape(s, dy, b.ry, b.sy);
  return absl::OkStatus();
}

absl::Status MatMulGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const bool ta = BoolAttr(op, "transpose_a");
  const bool tb = BoolAttr(op, "transpose_b");
  const Output& a = op.inputs[0];
  const Output& b = op.inputs[1];
  const Output& g = grads[0];
  if (!ta && !tb) {
    (*out)[0] = ops::MatMul(s, g, b, false, true);
    (*out)[1] = ops::MatMul(s, a, g, true, false);
  } else if (!ta && tb) {
    (*out)[0] = ops::MatMul(s, g, b, false, false);
    (*out)[1] = ops::MatMul(s, g, a, true, false);
  } else if (ta && !tb) {
    (*out)[0] = ops::MatMul(s, b, g, false, true);
    (*out)[1] = ops::MatMul(s, a, g, false, false);
  } else {
    (*out)[0] = ops::MatMul(s, b, g, true, true);
    (*out)[1] = ops::MatMul(s, g, a, true, true);
  }
  return absl::OkStatus();
}

std::vector<int32_t> Repeat(int n, int32_t v) { return std::vector<int32_t>(n, v); }

// The gradient of Sum for input 0: the output gradient broadcast back over
// the reduced axes (reshaped to keep them, then tiled).
Output SumGradFor(const Scope& s, const GradOp& op, const Output& grad) {
  const Output& x = op.inputs[0];
  const Output& axes = op.inputs[1];
  const PartialShape& in = x.shape();
  std::optional<std::vector<int64_t>> axes_v = ConstantIntValue(*s.graph(), axes);
  if (!in.unknown_rank() && axes_v) {
    const int rank = in.rank();
    std::vector<bool> reduced(rank, false);
    for (int64_t a : *axes_v) {
      const int64_t ax = a < 0 ? a + rank : a;
      if (ax < 0 || ax >= rank) {
        s.UpdateStatus(absl::InvalidArgumentError(
            absl::StrCat("reduction axis ", a, " out of range for ", in.DebugString())));
        return Output();
      }
      reduced[ax] = true;
    }
    const bool all = std::all_of(reduced.begin(), reduced.end(), [](bool r) { return r; });
    if (all) {
      // A full reduction: reshape to all ones and tile by the input shape.
      Output g = ops::Reshape(s, grad, Repeat(rank, 1));
      Output shape = in.IsFullyDefined() ? IntListConst(s, in.dims()) : ops::Shape(s, x);
      return ops::Tile(s, g, shape);
    }
    if (in.IsFullyDefined()) {
      std::vector<int32_t> kept(rank);
      std::vector<int64_t> multiples(rank);
      for (int i = 0; i < rank; ++i) {
        kept[i] = reduced[i] ? 1 : static_cast<int32_t>(in.dim(i));
        multiples[i] = reduced[i] ? in.dim(i) : 1;
      }
      Output g = ops::Reshape(s, grad, kept);
      return ops::Tile(s, g, IntListConst(s, multiples));
    }
    // Known rank, partly unknown dims: the kept shape is shape * keep + reduce
    // and the multiples shape * reduce + keep, with 0/1 masks.
    std::vector<int64_t> keep_mask(rank), reduce_mask(rank);
    for (int i = 0; i < rank; ++i) {
      keep_mask[i] = reduced[i] ? 0 : 1;
      reduce_mask[i] = reduced[i] ? 1 : 0;
    }
    Output shape = ops::Shape(s, x);
    Output keep = IntListConst(s, keep_mask);
    Output red = IntListConst(s, reduce_mask);
    Output kept = ops::Add(s, ops::Mul(s, shape, keep), red);
    Output multiples = ops::Add(s, ops::Mul(s, shape, red), keep);
    return ops::Tile(s, ops::Reshape(s, grad, kept), multiples);
  }
  // Unknown rank or axes known only at run time: build the masks from the
  // axes with OneHot (TensorFlow uses DynamicStitch here).
  Output shape = ops::Shape(s, x);
  Output rank = ops::Size(s, shape);
  Output ax = ops::Cast(s, axes, DT_INT32);
  Output norm = ops::Reshape(s, FloorMod(s, ops::Add(s, ax, rank), rank),
                             std::vector<int32_t>{-1});
  Output hot = OneHot(s, norm, rank, DT_INT32);
  Output mask = ops::Minimum(s, ops::Sum(s, hot, IntListConst(s, {0})),
                             ScalarConst(s, DT_INT32, 1));
  Output kept = ops::Add(s, ops::Sub(s, shape, ops::Mul(s, shape, mask)), mask);
  Output multiples = ops::FloorDiv(s, shape, BinaryScalarY(s, "Maximum", "Maximum", kept, 1));
  return ops::Tile(s, ops::Reshape(s, grad, kept), multiples);
}

absl::Status SumGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  (*out)[0] = SumGradFor(s, op, grads[0]);
  return absl::OkStatus();
}

// reduce_prod over all axes of a 1-D shape vector, the way math_ops builds
// it: a "Const" of the axes, then "Prod".
Output ProdOfShape(const Scope& s, Output shape) {
  Output axes = IntListConst(s, {0});
  return ops::Prod(s, shape, axes);
}

absl::Status MeanGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  Output sum_grad = SumGradFor(s, op, grads[0]);
  Output input_shape = ops::Shape(s, op.inputs[0]);
  Output output_shape = ops::Shape(s, op.output(0));
  Output in_size = ProdOfShape(s, input_shape);
  Output out_size = ProdOfShape(s, output_shape);
  // in_size // max(out_size, 1): an empty output has factor 0, not a
  // division by zero.
  Output factor =
      ops::FloorDiv(s, in_size, BinaryScalarY(s, "Maximum", "Maximum", out_size, 1));
  (*out)[0] = ops::RealDiv(s, sum_grad, ops::Cast(s, factor, grads[0].dtype()));
  return absl::OkStatus();
}

absl::Status AddNGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  for (Output& g : *out) g = grads[0];
  return absl::OkStatus();
}

absl::Status CastGrad(const Scope& s, const GradOp& op, const Grads& grads, Grads* out) {
  const DType src = op.inputs[0].dtype();
  if (IsTrainableDType(src) && IsTrainableDType(grads[0].dtype())) {
    (*out)[0] = ops::Cast(s, grads[0], src);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterMathGradients(GradientRegistry* r) {
  r->Register("Add", AddGrad);
  r->Register("AddV2", AddGrad);
  r->Register("Sub", SubGrad);
  r->Register("Mul", MulGrad);
  r->Register("RealDiv", RealDivGrad);
  r->Register("Maximum", MaximumGrad);
  r->Register("Minimum", MinimumGrad);
  r->Register("Neg", NegGrad);
  r->Register("Square", SquareGrad);
  r->Register("Sqrt", SqrtGrad);
  r->Register("Rsqrt", RsqrtGrad);
  r->Register("Exp", ExpGrad);
  r->Register("Log", LogGrad);
  r->Register("Abs", AbsGrad);
  r->Register("Sign", SignGrad);
  r->Register("Pow", PowGrad);
  r->Register("MatMul", MatMulGrad);
  r->Register("Sum", SumGrad);
  r->Register("Mean", MeanGrad);
  r->Register("AddN", AddNGrad);
  r->Register("Cast", CastGrad);
  for (const char* op : {"ArgMax", "ArgMin", "Equal", "NotEqual", "Greater", "GreaterEqual",
                         "Less", "LessEqual", "LogicalAnd", "LogicalOr", "LogicalNot",
                         "FloorDiv", "FloorMod", "Range"}) {
    r->RegisterNoGradient(op);
  }
}

}  // namespace runtime
}  // namespace ckpt
