// Builders the gradient functions and optimizers need beyond ops.h: the
// forms in which TensorFlow's Python passes a Python number or list to an
// op, which then becomes a Const inside the op's name scope ("Maximum/y",
// "ExpandDims/dim", "transpose/perm"). Private to the runtime.
#ifndef CKPT_RUNTIME_BUILDERS_INTERNAL_OPS_H_
#define CKPT_RUNTIME_BUILDERS_INTERNAL_OPS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/scope.h"

namespace ckpt {
namespace runtime {

// Adds the broadcasting binary op `b` (already named) on x and y, checking
// dtypes and static shapes. Comparison ops produce bool.
Output FinishBinary(OpBuilder& b, Output x, Output y);

// Adds the gradient op `b` (already named) of an elementwise op: two inputs
// of one dtype whose static shapes must agree (ReluGrad, TanhGrad, SqrtGrad).
Output FinishElementwiseGrad(OpBuilder& b, Output a, Output c);

// x <op> y where y is a scalar constant of x's dtype named "<node>/y"
// (Python: `x - 1`, `math_ops.maximum(x, 1)`).
Output BinaryScalarY(const Scope& s, absl::string_view op, absl::string_view default_name,
                     Output x, double y);
// x <op> y where x is the scalar constant "<node>/x" (Python: `2.0 * y`).
Output BinaryScalarX(const Scope& s, absl::string_view op, absl::string_view default_name,
                     double x, Output y);

// array_ops.expand_dims(x, axis) with a Python int: "ExpandDims/dim".
Output ExpandDimsConst(const Scope& s, Output x, int axis);
// array_ops.transpose(x, perm) with a Python list: "transpose/perm".
Output TransposeConst(const Scope& s, Output x, const std::vector<int64_t>& perm);
// array_ops.concat(values, axis) with a Python int axis: "concat/axis".
Output ConcatConstAxis(const Scope& s, const std::vector<Output>& values, int axis);
// math_ops.range(start, limit, delta) with Python start and delta:
// "range/start", "range/delta", node "range".
Output RangeFromLimit(const Scope& s, int64_t start, Output limit, int64_t delta);
// array_ops.unstack(x, num, axis): an Unpack node "unstack".
std::vector<Output> Unstack(const Scope& s, Output x, int num, int axis);
// array_ops.where(cond, x, y) (TensorFlow 1.x): a Select node "Select".
Output Select(const Scope& s, Output cond, Output x, Output y);
// math_ops.floormod: "FloorMod".
Output FloorMod(const Scope& s, Output x, Output y);
// math_ops.logical_not: "LogicalNot".
Output LogicalNot(const Scope& s, Output x);
// math_ops.reciprocal: "Reciprocal".
Output Reciprocal(const Scope& s, Output x);
// gen_math_ops.sqrt_grad / rsqrt_grad from the forward output y and the
// incoming gradient dy: "SqrtGrad" (dy / (2 y)), "RsqrtGrad" (-dy y^3 / 2).
Output SqrtGrad(const Scope& s, Output y, Output dy);
Output RsqrtGrad(const Scope& s, Output y, Output dy);
// GreaterEqual / LessEqual: "GreaterEqual", "LessEqual".
Output GreaterEqual(const Scope& s, Output x, Output y);
Output LessEqual(const Scope& s, Output x, Output y);
// gen_nn_ops.bias_add_grad: "BiasAddGrad".
Output BiasAddGrad(const Scope& s, Output out_backprop);
// A OneHot node "one_hot" (on 1, off 0 of `dtype`), as gradients build
// masks of reduced axes with.
Output OneHot(const Scope& s, Output indices, Output depth, DType dtype);

// The static shape of a reduction of `in` over `axes` (nullopt: axes not
// known statically), or an InvalidArgument for an axis out of range.
absl::StatusOr<PartialShape> ReducedShape(const PartialShape& in,
                                          const std::optional<std::vector<int64_t>>& axes,
                                          bool keep_dims);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_BUILDERS_INTERNAL_OPS_H_
