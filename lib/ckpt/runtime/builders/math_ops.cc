// Math builders: elementwise arithmetic with broadcasting, comparisons,
// MatMul, Cast, reductions. Node names and the constants made for Python
// arguments follow TensorFlow 1.x's math_ops.py ("add", "truediv",
// "Sum/reduction_indices", a "Const" of all axes before a full reduction).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/runtime/builders/internal_ops.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace runtime {

namespace {

Output Unary(const Scope& s, absl::string_view op, absl::string_view name, Output x) {
  OpBuilder b(s, op, name);
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x);
  return b.FinishOutput(x.shape());
}

// Reductions take the axes as a tensor; `axes` is it, already built.
Output FinishReduction(OpBuilder& b, Output x, Output axes, bool keep_dims) {
  if (!CheckInputs(b, {x, axes})) return Output();
  if (axes.dtype() != DT_INT32 && axes.dtype() != DT_INT64) {
    b.Fail(absl::StrCat("reduction axes must be int32 or int64, not ",
                        DTypeName(axes.dtype())));
    return Output();
  }
  absl::StatusOr<PartialShape> shape =
      ReducedShape(x.shape(), ConstantIntValue(*b.scope().graph(), axes), keep_dims);
  if (!shape.ok()) {
    b.Fail(shape.status().message());
    return Output();
  }
  b.Input(x).Input(axes).Attr("keep_dims", AttrBool(keep_dims));
  return b.FinishOutput(*shape);
}

// tf.reduce_sum and friends: all axes when `axes` is empty.
Output Reduce(const Scope& s, absl::string_view op, const std::vector<int32_t>& axes,
              Output x, bool keep_dims) {
  if (!s.ok()) return Output();
  if (axes.empty() && x.valid()) {
    // Python's _ReductionDims makes the axes before the op's name scope
    // opens: a "Const" of range(rank) when the rank is known, else
    // range(0, rank(x)).
    Output all;
    if (x.valid() && !x.shape().unknown_rank()) {
      std::vector<int64_t> r(x.shape().rank());
      for (int i = 0; i < x.shape().rank(); ++i) r[i] = i;
      all = IntListConst(s, r);
    } else {
      all = RangeFromLimit(s, 0, ops::Rank(s, x), 1);
    }
    OpBuilder b(s, op, op);
    return FinishReduction(b, x, all, keep_dims);
  }
  OpBuilder b(s, op, op);
  if (!CheckInputs(b, {x})) return Output();
  Output axes_t = IntListConst(b.ArgScope("reduction_indices"),
                               std::vector<int64_t>(axes.begin(), axes.end()));
  return FinishReduction(b, x, axes_t, keep_dims);
}

}  // namespace

Output FinishBinary(OpBuilder& b, Output x, Output y) {
  if (!CheckInputs(b, {x, y})) return Output();
  if (x.dtype() != y.dtype()) {
    b.Fail(absl::StrCat("x is ", DTypeName(x.dtype()), " but y is ", DTypeName(y.dtype())));
    return Output();
  }
  absl::StatusOr<PartialShape> shape = BroadcastShapes(x.shape(), y.shape());
  if (!shape.ok()) {
    b.Fail(shape.status().message());
    return Output();
  }
  b.Input(x).Input(y);
  return b.FinishOutput(*shape);
}

Output FinishElementwiseGrad(OpBuilder& b, Output a, Output c) {
  if (!CheckInputs(b, {a, c})) return Output();
  if (a.dtype() != c.dtype()) {
    b.Fail(absl::StrCat("inputs are ", DTypeName(a.dtype()), " and ", DTypeName(c.dtype())));
    return Output();
  }
  absl::StatusOr<PartialShape> shape = MergeShapes(a.shape(), c.shape());
  if (!shape.ok()) {
    b.Fail(shape.status().message());
    return Output();
  }
  b.Input(a).Input(c);
  return b.FinishOutput(*shape);
}

Output BinaryScalarY(const Scope& s, absl::string_view op, absl::string_view default_name,
                     Output x, double y) {
  OpBuilder b(s, op, default_name);
  if (!CheckInputs(b, {x})) return Output();
  Output yc = ScalarConst(b.ArgScope("y"), x.dtype(), y);
  return FinishBinary(b, x, yc);
}

Output BinaryScalarX(const Scope& s, absl::string_view op, absl::string_view default_name,
                     double x, Output y) {
  OpBuilder b(s, op, default_name);
  if (!CheckInputs(b, {y})) return Output();
  Output xc = ScalarConst(b.ArgScope("x"), y.dtype(), x);
  return FinishBinary(b, xc, y);
}

Output RangeFromLimit(const Scope& s, int64_t start, Output limit, int64_t delta) {
  OpBuilder b(s, "Range", "range");
  if (!CheckInputs(b, {limit})) return Output();
  Output st = ScalarConst(b.ArgScope("start"), limit.dtype(), static_cast<double>(start));
  Output de = ScalarConst(b.ArgScope("delta"), limit.dtype(), static_cast<double>(delta));
  b.Input(st).Input(limit).Input(de);
  PartialShape shape({-1});
  std::optional<std::vector<int64_t>> lim = ConstantIntValue(*s.graph(), limit);
  if (lim && lim->size() == 1 && delta > 0) {
    shape = PartialShape({std::max<int64_t>(0, ((*lim)[0] - start + delta - 1) / delta)});
  }
  return b.FinishOutput(shape);
}

Output FloorMod(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "FloorMod", "FloorMod");
  return FinishBinary(b, x, y);
}

Output LogicalNot(const Scope& s, Output x) { return Unary(s, "LogicalNot", "LogicalNot", x); }
Output Reciprocal(const Scope& s, Output x) { return Unary(s, "Reciprocal", "Reciprocal", x); }

Output SqrtGrad(const Scope& s, Output y, Output dy) {
  OpBuilder b(s, "SqrtGrad", "SqrtGrad");
  return FinishElementwiseGrad(b, y, dy);
}

Output RsqrtGrad(const Scope& s, Output y, Output dy) {
  OpBuilder b(s, "RsqrtGrad", "RsqrtGrad");
  return FinishElementwiseGrad(b, y, dy);
}

Output GreaterEqual(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "GreaterEqual", "GreaterEqual");
  return FinishBinary(b, x, y);
}

Output LessEqual(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "LessEqual", "LessEqual");
  return FinishBinary(b, x, y);
}

Output Select(const Scope& s, Output cond, Output x, Output y) {
  OpBuilder b(s, "Select", "Select");
  if (!CheckInputs(b, {cond, x, y})) return Output();
  if (cond.dtype() != DT_BOOL) {
    b.Fail(absl::StrCat("condition must be bool, not ", DTypeName(cond.dtype())));
    return Output();
  }
  if (x.dtype() != y.dtype()) {
    b.Fail(absl::StrCat("t is ", DTypeName(x.dtype()), " but e is ", DTypeName(y.dtype())));
    return Output();
  }
  absl::StatusOr<PartialShape> shape = MergeShapes(x.shape(), y.shape());
  if (!shape.ok()) {
    b.Fail(shape.status().message());
    return Output();
  }
  b.Input(cond).Input(x).Input(y);
  return b.FinishOutput(*shape);
}

absl::StatusOr<PartialShape> ReducedShape(const PartialShape& in,
                                          const std::optional<std::vector<int64_t>>& axes,
                                          bool keep_dims) {
  if (in.unknown_rank()) return PartialShape();
  const int rank = in.rank();
  if (!axes) return keep_dims ? UnknownShapeOfRank(rank) : PartialShape();
  std::vector<bool> reduced(rank, false);
  for (int64_t a : *axes) {
    const int64_t axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("reduction axis ", a, " is out of range for input of shape ",
                       in.DebugString()));
    }
    reduced[axis] = true;
  }
  std::vector<int64_t> dims;
  for (int i = 0; i < rank; ++i) {
    if (!reduced[i]) {
      dims.push_back(in.dim(i));
    } else if (keep_dims) {
      dims.push_back(1);
    }
  }
  return PartialShape(std::move(dims));
}

}  // namespace runtime

namespace ops {

using runtime::CheckInputs;
using runtime::FinishBinary;
using runtime::OpBuilder;

Output Add(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Add", "add");
  return FinishBinary(b, x, y);
}
Output Sub(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Sub", "sub");
  return FinishBinary(b, x, y);
}
Output Mul(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Mul", "mul");
  return FinishBinary(b, x, y);
}
Output RealDiv(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "RealDiv", "truediv");
  return FinishBinary(b, x, y);
}
Output Maximum(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Maximum", "Maximum");
  return FinishBinary(b, x, y);
}
Output Minimum(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Minimum", "Minimum");
  return FinishBinary(b, x, y);
}
Output FloorDiv(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "FloorDiv", "floordiv");
  return FinishBinary(b, x, y);
}
Output Pow(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Pow", "Pow");
  return FinishBinary(b, x, y);
}
Output Equal(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Equal", "Equal");
  return FinishBinary(b, x, y);
}
Output Greater(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Greater", "Greater");
  return FinishBinary(b, x, y);
}
Output Less(const Scope& s, Output x, Output y) {
  OpBuilder b(s, "Less", "Less");
  return FinishBinary(b, x, y);
}

Output Neg(const Scope& s, Output x) { return runtime::Unary(s, "Neg", "Neg", x); }
Output Square(const Scope& s, Output x) { return runtime::Unary(s, "Square", "Square", x); }
Output Sqrt(const Scope& s, Output x) { return runtime::Unary(s, "Sqrt", "Sqrt", x); }
Output Rsqrt(const Scope& s, Output x) { return runtime::Unary(s, "Rsqrt", "Rsqrt", x); }
Output Exp(const Scope& s, Output x) { return runtime::Unary(s, "Exp", "Exp", x); }
Output Log(const Scope& s, Output x) { return runtime::Unary(s, "Log", "Log", x); }
Output Abs(const Scope& s, Output x) { return runtime::Unary(s, "Abs", "Abs", x); }
Output Sign(const Scope& s, Output x) { return runtime::Unary(s, "Sign", "Sign", x); }

Output MatMul(const Scope& s, Output a, Output b, bool transpose_a, bool transpose_b) {
  OpBuilder nb(s, "MatMul", "MatMul");
  if (!CheckInputs(nb, {a, b})) return Output();
  if (a.dtype() != b.dtype()) {
    nb.Fail(absl::StrCat("a is ", DTypeName(a.dtype()), " but b is ", DTypeName(b.dtype())));
    return Output();
  }
  const PartialShape& sa = a.shape();
  const PartialShape& sb = b.shape();
  if (sa.rank() >= 0 && sa.rank() != 2) {
    nb.Fail(absl::StrCat("a must be a matrix, not of shape ", sa.DebugString()));
    return Output();
  }
  if (sb.rank() >= 0 && sb.rank() != 2) {
    nb.Fail(absl::StrCat("b must be a matrix, not of shape ", sb.DebugString()));
    return Output();
  }
  int64_t rows = -1, cols = -1;
  if (sa.rank() == 2 && sb.rank() == 2) {
    const int64_t ka = transpose_a ? sa.dim(0) : sa.dim(1);
    const int64_t kb = transpose_b ? sb.dim(1) : sb.dim(0);
    if (ka >= 0 && kb >= 0 && ka != kb) {
      nb.Fail(absl::StrCat("inner dimensions differ: a ", sa.DebugString(),
                           transpose_a ? " (transposed)" : "", ", b ", sb.DebugString(),
                           transpose_b ? " (transposed)" : ""));
      return Output();
    }
  }
  if (sa.rank() == 2) rows = transpose_a ? sa.dim(1) : sa.dim(0);
  if (sb.rank() == 2) cols = transpose_b ? sb.dim(0) : sb.dim(1);
  nb.Input(a).Input(b)
      .Attr("transpose_a", AttrBool(transpose_a))
      .Attr("transpose_b", AttrBool(transpose_b));
  return nb.FinishOutput(PartialShape({rows, cols}));
}

Output Cast(const Scope& s, Output x, DType to) {
  // math_ops.cast returns its input untouched when the dtype already
  // matches, adding no node; its name scope is opened all the same, so the
  // name is taken ("Cast" then "Cast_1" in TensorFlow graphs).
  if (s.ok() && x.valid() && x.dtype() == to) {
    s.GetUniqueNameForOp("Cast");
    return x;
  }
  OpBuilder b(s, "Cast", "Cast");
  if (!CheckInputs(b, {x})) return Output();
  b.Input(x).Attr("DstT", AttrType(to));
  return b.FinishOutput(x.shape());
}

Output ArgMax(const Scope& s, Output x, int axis) {
  OpBuilder b(s, "ArgMax", "ArgMax");
  if (!CheckInputs(b, {x})) return Output();
  PartialShape shape;
  if (!x.shape().unknown_rank()) {
    const int rank = x.shape().rank();
    const int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      b.Fail(absl::StrCat("axis ", axis, " is out of range for input of shape ",
                          x.shape().DebugString()));
      return Output();
    }
    std::vector<int64_t> dims = x.shape().dims();
    dims.erase(dims.begin() + a);
    shape = PartialShape(std::move(dims));
  }
  Output dim = runtime::ScalarConst(b.ArgScope("dimension"), DT_INT32, axis);
  b.Input(x).Input(dim);
  return b.FinishOutput(shape);
}

Output ReduceSum(const Scope& s, Output x, const std::vector<int32_t>& axes, bool keep_dims) {
  return runtime::Reduce(s, "Sum", axes, x, keep_dims);
}
Output ReduceMean(const Scope& s, Output x, const std::vector<int32_t>& axes, bool keep_dims) {
  return runtime::Reduce(s, "Mean", axes, x, keep_dims);
}
Output ReduceMax(const Scope& s, Output x, const std::vector<int32_t>& axes, bool keep_dims) {
  return runtime::Reduce(s, "Max", axes, x, keep_dims);
}

Output Sum(const Scope& s, Output x, Output axes, bool keep_dims) {
  OpBuilder b(s, "Sum", "Sum");
  return runtime::FinishReduction(b, x, axes, keep_dims);
}
Output Mean(const Scope& s, Output x, Output axes, bool keep_dims) {
  OpBuilder b(s, "Mean", "Mean");
  return runtime::FinishReduction(b, x, axes, keep_dims);
}
Output Prod(const Scope& s, Output x, Output axes, bool keep_dims) {
  OpBuilder b(s, "Prod", "Prod");
  return runtime::FinishReduction(b, x, axes, keep_dims);
}

Output AddN(const Scope& s, const std::vector<Output>& inputs) {
  if (!s.ok()) return Output();
  // math_ops.add_n of a single tensor is that tensor.
  if (inputs.size() == 1 && inputs[0].valid()) return inputs[0];
  OpBuilder b(s, "AddN", "AddN");
  if (!b.ok()) return Output();
  if (inputs.empty()) {
    b.Fail("needs at least one input");
    return Output();
  }
  PartialShape shape = inputs[0].shape();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].valid()) {
      b.Fail(absl::StrCat("input ", i, " is invalid (a default-constructed Output)"));
      return Output();
    }
    if (inputs[i].dtype() != inputs[0].dtype()) {
      b.Fail(absl::StrCat("input ", i, " is ", DTypeName(inputs[i].dtype()), " but input 0 is ",
                          DTypeName(inputs[0].dtype())));
      return Output();
    }
    absl::StatusOr<PartialShape> merged = runtime::MergeShapes(shape, inputs[i].shape());
    if (!merged.ok()) {
      b.Fail(merged.status().message());
      return Output();
    }
    shape = *merged;
  }
  b.InputList(inputs);
  return b.FinishOutput(shape);
}

}  // namespace ops
}  // namespace ckpt
