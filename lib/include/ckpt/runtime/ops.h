// ckpt/runtime/ops.h — building graphs the way TensorFlow's Python API does.
//
// Each function adds the node(s) TensorFlow's Python function of the same
// name adds, with the same op, attrs and default node names, so the graph
// exports to a `.meta` TensorFlow reads like its own. On an error (an invalid
// input, incompatible static shapes) the function records it in the Scope
// and returns an invalid Output; check Scope::ok() once at the end.
//
//   using namespace ckpt;        // Output, Var, DT_FLOAT
//   using namespace ckpt::ops;   // the builders
//   Output xs = Placeholder(root, DT_FLOAT, {-1, 1});             // "Placeholder"
//   Output ys = Placeholder(root, DT_FLOAT, {-1, 10});            // "Placeholder_1"
//   Var w = Variable(root, RandomNormal(root, {1, 10}));           // "Variable"
//   Var b = Variable(root, Add(root, Zeros(root, {1, 10}), Const(root, 0.1f)));
//   Output h = Relu(root, Add(root, MatMul(root, xs, w), b));     // "MatMul", "add_1", "Relu"
//   Output loss = ReduceMean(root, ReduceSum(root, Square(root, Sub(root, ys, h)), {1}));
//   if (!root.ok()) return root.status();   // the first error, if any
//
// Names: the Python spellings ("add", "sub", "mul", "truediv", "MatMul",
// "Relu", "Sum", "Mean", "random_normal", ...), made unique ("add_1").
#ifndef CKPT_RUNTIME_OPS_H_
#define CKPT_RUNTIME_OPS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/tensor.h"

namespace ckpt {

// A variable as tf.Variable makes it: a VariableV2 node "<name>", its
// initializer "<name>/Assign" and its snapshot "<name>/read". Converts to
// its value (the snapshot), so it can be used wherever an Output is.
class Var {
 public:
  Var() = default;
  Var(Output ref, Output value, Operation initializer, Output initial_value)
      : ref_(ref), value_(value), initializer_(initializer), initial_value_(initial_value) {}
  Output ref() const { return ref_; }          // "<name>:0", a reference
  Output value() const { return value_; }      // "<name>/read:0"
  operator Output() const { return value_; }   // NOLINT: reads like Python
  Operation initializer() const { return initializer_; }
  Output initial_value() const { return initial_value_; }
  const std::string& name() const { return ref_.node()->name(); }
  bool valid() const { return ref_.valid(); }
  DType dtype() const { return value_.dtype(); }
  const PartialShape& shape() const { return ref_.shape(); }

 private:
  Output ref_, value_;
  Operation initializer_;
  Output initial_value_;
};

namespace ops {

// ---- constants, placeholders, variables (builders/core_ops.cc) ----------
Output Const(const Scope& s, const Tensor& value);
Output Const(const Scope& s, float value);
Output Const(const Scope& s, double value);
Output Const(const Scope& s, int32_t value);
Output Const(const Scope& s, int64_t value);
Output Const(const Scope& s, bool value);
Output Const(const Scope& s, const std::string& value);
Output Const(const Scope& s, const char* value);
// A 1-D int32 constant (shapes, axes).
Output Const(const Scope& s, const std::vector<int32_t>& values);
Output Const(const Scope& s, const std::vector<float>& values, const TensorShape& shape);

Output Placeholder(const Scope& s, DType dtype, const PartialShape& shape = PartialShape());
Output PlaceholderWithDefault(const Scope& s, Output input, const PartialShape& shape);
Output Identity(const Scope& s, Output input);
// A node that does nothing; with the scope's control dependencies it groups.
Operation NoOp(const Scope& s);
// tf.group: a NoOp ("group_deps" by default) depending on every op.
Operation Group(const Scope& s, const std::vector<Operation>& ops);

struct VariableOptions {
  std::string name;        // "" -> "Variable"
  bool trainable = true;   // also added to trainable_variables
  // When false the variable is not added to the graph's "variables"
  // collection (for optimizer bookkeeping TensorFlow also keeps there, leave true).
  bool in_variables_collection = true;
};
// tf.Variable(initial_value): the initial value's static shape must be fully
// defined. Registers the VariableDef with the graph.
Var Variable(const Scope& s, Output initial_value, const VariableOptions& options = {});
// A VariableV2 node alone ("Variable" op attrs shape, dtype, container, shared_name).
Output VariableV2(const Scope& s, const PartialShape& shape, DType dtype);
Output Assign(const Scope& s, Output ref, Output value, bool validate_shape = true,
              bool use_locking = true);
Output AssignAdd(const Scope& s, Output ref, Output value);
Output AssignSub(const Scope& s, Output ref, Output value);
// tf.global_variables_initializer(): NoOp "init" on every variable's initializer.
Operation GlobalVariablesInitializer(const Scope& s);

// ---- math (builders/math_ops.cc) ------------------------------------------
Output Add(const Scope& s, Output x, Output y);        // "add"
Output Sub(const Scope& s, Output x, Output y);        // "sub"
Output Mul(const Scope& s, Output x, Output y);        // "mul"
Output RealDiv(const Scope& s, Output x, Output y);    // "truediv"
Output Maximum(const Scope& s, Output x, Output y);
Output Minimum(const Scope& s, Output x, Output y);
Output FloorDiv(const Scope& s, Output x, Output y);
Output Pow(const Scope& s, Output x, Output y);
Output Neg(const Scope& s, Output x);
Output Square(const Scope& s, Output x);
Output Sqrt(const Scope& s, Output x);
Output Rsqrt(const Scope& s, Output x);
Output Exp(const Scope& s, Output x);
Output Log(const Scope& s, Output x);
Output Abs(const Scope& s, Output x);
Output Sign(const Scope& s, Output x);
Output MatMul(const Scope& s, Output a, Output b, bool transpose_a = false,
              bool transpose_b = false);
Output Cast(const Scope& s, Output x, DType to);
Output Equal(const Scope& s, Output x, Output y);
Output Greater(const Scope& s, Output x, Output y);
Output Less(const Scope& s, Output x, Output y);
Output ArgMax(const Scope& s, Output x, int axis);
// Reductions over `axes` (empty = all), as tf.reduce_sum/reduce_mean; the
// axes constant is "<name>/reduction_indices" (TensorFlow's spelling);
// keep_dims keeps reduced axes as size 1.
Output ReduceSum(const Scope& s, Output x, const std::vector<int32_t>& axes = {},
                 bool keep_dims = false);
Output ReduceMean(const Scope& s, Output x, const std::vector<int32_t>& axes = {},
                  bool keep_dims = false);
Output ReduceMax(const Scope& s, Output x, const std::vector<int32_t>& axes = {},
                 bool keep_dims = false);
// The ops with a tensor of axes (gradients build these).
Output Sum(const Scope& s, Output x, Output axes, bool keep_dims = false);
Output Mean(const Scope& s, Output x, Output axes, bool keep_dims = false);
Output Prod(const Scope& s, Output x, Output axes, bool keep_dims = false);
Output AddN(const Scope& s, const std::vector<Output>& inputs);

// ---- neural network (builders/nn_ops.cc) ----------------------------------
Output Relu(const Scope& s, Output x);
Output ReluGrad(const Scope& s, Output gradients, Output features);
Output Sigmoid(const Scope& s, Output x);
Output SigmoidGrad(const Scope& s, Output y, Output dy);
Output Tanh(const Scope& s, Output x);
Output TanhGrad(const Scope& s, Output y, Output dy);
Output Softmax(const Scope& s, Output logits);
Output LogSoftmax(const Scope& s, Output logits);
Output BiasAdd(const Scope& s, Output value, Output bias);
// tf.nn.softmax_cross_entropy_with_logits(labels, logits): the per-example
// loss (output 0 of SoftmaxCrossEntropyWithLogits; output 1 is the backprop).
Output SoftmaxCrossEntropyWithLogits(const Scope& s, Output labels, Output logits);
Output SparseSoftmaxCrossEntropyWithLogits(const Scope& s, Output labels, Output logits);

// ---- arrays (builders/array_ops.cc) ---------------------------------------
Output Shape(const Scope& s, Output x, DType out_type = DT_INT32);
Output Size(const Scope& s, Output x, DType out_type = DT_INT32);
Output Rank(const Scope& s, Output x);
Output Reshape(const Scope& s, Output x, Output shape);
Output Reshape(const Scope& s, Output x, const std::vector<int32_t>& shape);
Output Fill(const Scope& s, Output dims, Output value);
// tf.zeros / tf.ones of a static shape: one Const ("zeros", "ones").
Output Zeros(const Scope& s, const TensorShape& shape, DType dtype = DT_FLOAT);
Output Ones(const Scope& s, const TensorShape& shape, DType dtype = DT_FLOAT);
Output ZerosLike(const Scope& s, Output x);
Output OnesLike(const Scope& s, Output x);
Output Tile(const Scope& s, Output x, Output multiples);
Output ConcatV2(const Scope& s, const std::vector<Output>& values, Output axis);
Output Pack(const Scope& s, const std::vector<Output>& values, int axis = 0);
Output Slice(const Scope& s, Output x, Output begin, Output size);
Output ExpandDims(const Scope& s, Output x, Output axis);
Output Squeeze(const Scope& s, Output x, const std::vector<int32_t>& axes = {});
Output Transpose(const Scope& s, Output x, Output perm);
Output StopGradient(const Scope& s, Output x);
// Outputs r0, r1 of BroadcastGradientArgs.
std::vector<Output> BroadcastGradientArgs(const Scope& s, Output s0, Output s1);

// ---- random (builders/random_ops.cc) --------------------------------------
// seed 0 = none (then the graph's seed, if any, decides, as in TensorFlow).
// tf.random_normal: "random_normal" scope with shape/mean/stddev constants,
// RandomStandardNormal, mul, add.
Output RandomNormal(const Scope& s, const TensorShape& shape, float mean = 0.0f,
                    float stddev = 1.0f, int64_t seed = 0, DType dtype = DT_FLOAT);
Output TruncatedNormal(const Scope& s, const TensorShape& shape, float mean = 0.0f,
                       float stddev = 1.0f, int64_t seed = 0, DType dtype = DT_FLOAT);
Output RandomUniform(const Scope& s, const TensorShape& shape, float minval = 0.0f,
                     float maxval = 1.0f, int64_t seed = 0, DType dtype = DT_FLOAT);

// ---- training updates (builders/training_ops.cc) --------------------------
Output ApplyGradientDescent(const Scope& s, Output var, Output alpha, Output delta,
                            bool use_locking = false);
Output ApplyMomentum(const Scope& s, Output var, Output accum, Output lr, Output grad,
                     Output momentum, bool use_locking = false, bool use_nesterov = false);
Output ApplyAdam(const Scope& s, Output var, Output m, Output v, Output beta1_power,
                 Output beta2_power, Output lr, Output beta1, Output beta2, Output epsilon,
                 Output grad, bool use_locking = false, bool use_nesterov = false);

}  // namespace ops
}  // namespace ckpt

#endif  // CKPT_RUNTIME_OPS_H_
