// Neural-network builders. softmax_cross_entropy_with_logits is built as
// TensorFlow 1.x's nn_ops.py builds it: logits and labels flattened to
// matrices through Rank/Shape/Slice/ConcatV2/Reshape, the op, and the cost
// reshaped back to the logits' outer shape; TensorFlow-written graphs of
// that era (such as the MNIST tutorials') therefore have the same nodes.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/internal_ops.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {
namespace ops {
namespace {

using runtime::CheckInputs;
using runtime::OpBuilder;

Output Activation(const Scope& s, absl::string_view op, Output x, int min_rank = 0) {
  OpBuilder b(s, op, op);
  if (!CheckInputs(b, {x})) return Output();
  if (x.shape().rank() >= 0 && x.shape().rank() < min_rank) {
    b.Fail(absl::StrCat("input must have rank at least ", min_rank, ", not shape ",
                        x.shape().DebugString()));
    return Output();
  }
  b.Input(x);
  return b.FinishOutput(x.shape());
}

// The *Grad ops of activations: two inputs of one shape.
Output ActivationGrad(const Scope& s, absl::string_view op, Output a, Output b_in) {
  OpBuilder b(s, op, op);
  return runtime::FinishElementwiseGrad(b, a, b_in);
}

// nn_ops._flatten_outer_dims: reshapes to [-1, last dim] with a shape
// computed at run time, and states the static shape it knows.
Output FlattenOuterDims(const Scope& s, Output x) {
  Output rank = Rank(s, x);
  Output last_dim;
  {
    Output shape = Shape(s, x);
    Output rank_minus_1 = runtime::BinaryScalarY(s, "Sub", "Sub", rank, 1);
    OpBuilder slice(s, "Slice", "Slice");
    if (!slice.ok()) return Output();
    Output begin = Pack(slice.ArgScope("begin"), {rank_minus_1});
    Output size = runtime::IntListConst(slice.ArgScope("size"), {1});
    if (!CheckInputs(slice, {shape, begin, size})) return Output();
    slice.Input(shape).Input(begin).Input(size);
    last_dim = slice.FinishOutput(PartialShape({1}));
  }
  OpBuilder concat(s, "ConcatV2", "concat");
  if (!concat.ok()) return Output();
  Output minus_one = runtime::IntListConst(concat.ArgScope("values_0"), {-1});
  Output axis = runtime::ScalarConst(concat.ArgScope("axis"), DT_INT32, 0);
  if (!CheckInputs(concat, {minus_one, last_dim, axis})) return Output();
  concat.InputList({minus_one, last_dim}).Input(axis);
  Output new_shape = concat.FinishOutput(PartialShape({2}));

  OpBuilder reshape(s, "Reshape", "Reshape");
  if (!CheckInputs(reshape, {x, new_shape})) return Output();
  PartialShape out = runtime::UnknownShapeOfRank(2);
  const PartialShape& in = x.shape();
  if (!in.unknown_rank() && in.rank() >= 1) {
    int64_t product = 1;
    for (int i = 0; i + 1 < in.rank(); ++i) {
      if (in.dim(i) < 0 || product < 0) {
        product = -1;
      } else {
        product *= in.dim(i);
      }
    }
    out = PartialShape({product, in.dim(in.rank() - 1)});
  }
  reshape.Input(x).Input(new_shape);
  return reshape.FinishOutput(out);
}

}  // namespace

Output Relu(const Scope& s, Output x) { return Activation(s, "Relu", x); }
Output Sigmoid(const Scope& s, Output x) { return Activation(s, "Sigmoid", x); }
Output Tanh(const Scope& s, Output x) { return Activation(s, "Tanh", x); }
Output Softmax(const Scope& s, Output logits) { return Activation(s, "Softmax", logits, 1); }
Output LogSoftmax(const Scope& s, Output logits) {
  return Activation(s, "LogSoftmax", logits, 1);
}

Output ReluGrad(const Scope& s, Output gradients, Output features) {
  return ActivationGrad(s, "ReluGrad", gradients, features);
}
Output SigmoidGrad(const Scope& s, Output y, Output dy) {
  return ActivationGrad(s, "SigmoidGrad", y, dy);
}
Output TanhGrad(const Scope& s, Output y, Output dy) {
  return ActivationGrad(s, "TanhGrad", y, dy);
}

Output BiasAdd(const Scope& s, Output value, Output bias) {
  OpBuilder b(s, "BiasAdd", "BiasAdd");
  if (!CheckInputs(b, {value, bias})) return Output();
  if (value.dtype() != bias.dtype()) {
    b.Fail(absl::StrCat("value is ", DTypeName(value.dtype()), " but bias is ",
                        DTypeName(bias.dtype())));
    return Output();
  }
  const PartialShape& v = value.shape();
  const PartialShape& bs = bias.shape();
  if (bs.rank() >= 0 && bs.rank() != 1) {
    b.Fail(absl::StrCat("bias must be a vector, not of shape ", bs.DebugString()));
    return Output();
  }
  if (v.rank() >= 0 && v.rank() < 2) {
    b.Fail(absl::StrCat("value must have rank at least 2, not shape ", v.DebugString()));
    return Output();
  }
  PartialShape out = v;
  if (v.rank() >= 2 && bs.rank() == 1) {
    const int64_t last = v.dim(v.rank() - 1);
    if (last >= 0 && bs.dim(0) >= 0 && last != bs.dim(0)) {
      b.Fail(absl::StrCat("bias of shape ", bs.DebugString(),
                          " does not match the last dimension of ", v.DebugString()));
      return Output();
    }
    std::vector<int64_t> dims = v.dims();
    if (dims.back() < 0) dims.back() = bs.dim(0);
    out = PartialShape(std::move(dims));
  }
  b.Input(value).Input(bias);
  return b.FinishOutput(out);
}

Output SoftmaxCrossEntropyWithLogits(const Scope& s, Output labels, Output logits) {
  if (!s.ok()) return Output();
  if (!labels.valid() || !logits.valid()) {
    s.UpdateStatus(absl::InvalidArgumentError(
        "SoftmaxCrossEntropyWithLogits: labels or logits is invalid (a default-constructed "
        "Output)"));
    return Output();
  }
  // The labels are cast to the logits' dtype (a no-op that still takes the
  // name "Cast" when they match).
  labels = Cast(s, labels, logits.dtype());
  if (!s.ok()) return Output();
  absl::StatusOr<PartialShape> both = runtime::MergeShapes(labels.shape(), logits.shape());
  if (!both.ok() || (both->rank() == 0)) {
    s.UpdateStatus(absl::InvalidArgumentError(absl::StrCat(
        "SoftmaxCrossEntropyWithLogits: labels of shape ", labels.shape().DebugString(),
        " do not match logits of shape ", logits.shape().DebugString())));
    return Output();
  }
  Output input_rank = Rank(s, logits);
  Output input_shape = Shape(s, logits);
  Output flat_logits = FlattenOuterDims(s, logits);
  Output flat_labels = FlattenOuterDims(s, labels);

  OpBuilder op(s, "SoftmaxCrossEntropyWithLogits", "SoftmaxCrossEntropyWithLogits");
  if (!CheckInputs(op, {flat_logits, flat_labels})) return Output();
  const int64_t rows = flat_logits.shape().rank() == 2 ? flat_logits.shape().dim(0) : -1;
  const int64_t cols = flat_logits.shape().rank() == 2 ? flat_logits.shape().dim(1) : -1;
  op.Input(flat_logits).Input(flat_labels);
  Node* node = op.Finish({PartialShape({rows}), PartialShape({rows, cols})});
  if (node == nullptr) return Output();
  Output cost(node, 0);

  // The cost has the logits' shape without the class dimension.
  Output rank_minus_1 = runtime::BinaryScalarY(s, "Sub", "Sub", input_rank, 1);
  OpBuilder slice(s, "Slice", "Slice");
  if (!slice.ok()) return Output();
  Output begin = runtime::IntListConst(slice.ArgScope("begin"), {0});
  Output size = Pack(slice.ArgScope("size"), {rank_minus_1});
  if (!CheckInputs(slice, {input_shape, begin, size})) return Output();
  slice.Input(input_shape).Input(begin).Input(size);
  Output out_shape = slice.FinishOutput(PartialShape({-1}));
  Output result = Reshape(s, cost, out_shape);
  if (result.valid() && !both->unknown_rank()) {
    std::vector<int64_t> dims = both->dims();
    dims.pop_back();
    result.node()->output_shapes[result.index()] = PartialShape(std::move(dims));
  }
  return result;
}

Output SparseSoftmaxCrossEntropyWithLogits(const Scope& s, Output labels, Output logits) {
  if (!s.ok()) return Output();
  Scope inner = s.NewSubScope("SparseSoftmaxCrossEntropyWithLogits");
  // nn_ops.py keeps the labels' shape for reshaping the cost back when the
  // logits are not a matrix; the node exists in every graph it builds.
  if (labels.valid()) Shape(inner, labels);
  OpBuilder b(inner, "SparseSoftmaxCrossEntropyWithLogits",
              "SparseSoftmaxCrossEntropyWithLogits");
  if (!CheckInputs(b, {labels, logits})) return Output();
  if (labels.dtype() != DT_INT32 && labels.dtype() != DT_INT64) {
    b.Fail(absl::StrCat("labels must be int32 or int64, not ", DTypeName(labels.dtype())));
    return Output();
  }
  const PartialShape& lg = logits.shape();
  const PartialShape& lb = labels.shape();
  if (lg.rank() >= 0 && lg.rank() != 2) {
    b.Fail(absl::StrCat("logits must be a matrix [batch, classes], not of shape ",
                        lg.DebugString()));
    return Output();
  }
  if (lb.rank() >= 0 && lb.rank() != 1) {
    b.Fail(absl::StrCat("labels must be a vector [batch], not of shape ", lb.DebugString()));
    return Output();
  }
  int64_t rows = lg.rank() == 2 ? lg.dim(0) : -1;
  const int64_t label_rows = lb.rank() == 1 ? lb.dim(0) : -1;
  if (rows >= 0 && label_rows >= 0 && rows != label_rows) {
    b.Fail(absl::StrCat("labels of shape ", lb.DebugString(), " do not match logits of shape ",
                        lg.DebugString()));
    return Output();
  }
  if (rows < 0) rows = label_rows;
  const int64_t cols = lg.rank() == 2 ? lg.dim(1) : -1;
  b.Input(logits).Input(labels);
  Node* node = b.Finish({PartialShape({rows}), PartialShape({rows, cols})});
  return node == nullptr ? Output() : Output(node, 0);
}

}  // namespace ops
}  // namespace ckpt
