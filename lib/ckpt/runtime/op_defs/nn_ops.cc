// OpDefs of TensorFlow's neural-network ops (core/ops/nn_ops.cc and the
// activations of math_ops.cc), as the newest TensorFlow registers them.
#include <string>

#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

namespace {
constexpr char kFloatingComplexTypes[] =
    "T: {bfloat16, half, float, double, complex64, complex128}";
constexpr char kSoftmaxTypes[] = "T: {half, bfloat16, float, double}";
constexpr char kDataFormat[] = "data_format: {'NHWC', 'NCHW'} = 'NHWC'";
}  // namespace

void RegisterNnOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  def(OpDefBuilder("Relu")
          .Input("features: T")
          .Output("activations: T")
          .Attr("T: {realnumbertype, qint8}"));
  def(OpDefBuilder("ReluGrad")
          .Input("gradients: T")
          .Input("features: T")
          .Output("backprops: T")
          .Attr("T: realnumbertype"));
  for (const char* op : {"Sigmoid", "Tanh"}) {
    def(OpDefBuilder(op).Input("x: T").Output("y: T").Attr(kFloatingComplexTypes));
  }
  // The gradients take the forward output y and the incoming gradient dy.
  for (const char* op : {"SigmoidGrad", "TanhGrad"}) {
    def(OpDefBuilder(op).Input("y: T").Input("dy: T").Output("z: T").Attr(kFloatingComplexTypes));
  }
  def(OpDefBuilder("Softmax").Input("logits: T").Output("softmax: T").Attr(kSoftmaxTypes));
  def(OpDefBuilder("LogSoftmax").Input("logits: T").Output("logsoftmax: T").Attr(kSoftmaxTypes));
  def(OpDefBuilder("BiasAdd")
          .Input("value: T")
          .Input("bias: T")
          .Output("output: T")
          .Attr("T: numbertype")
          .Attr(kDataFormat));
  // The first BiasAdd, kept for old graphs: no data_format, the bias always
  // runs along the last dimension.
  def(OpDefBuilder("BiasAddV1")
          .Input("value: T")
          .Input("bias: T")
          .Output("output: T")
          .Attr("T: numbertype"));
  def(OpDefBuilder("BiasAddGrad")
          .Input("out_backprop: T")
          .Output("output: T")
          .Attr("T: numbertype")
          .Attr(kDataFormat));
  def(OpDefBuilder("SoftmaxCrossEntropyWithLogits")
          .Input("features: T")
          .Input("labels: T")
          .Output("loss: T")
          .Output("backprop: T")
          .Attr(kSoftmaxTypes));
  def(OpDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
          .Input("features: T")
          .Input("labels: Tlabels")
          .Output("loss: T")
          .Output("backprop: T")
          .Attr(kSoftmaxTypes)
          .Attr("Tlabels: {int32, int64} = DT_INT64"));
  // sum(t^2) / 2, a scalar.
  def(OpDefBuilder("L2Loss").Input("t: T").Output("output: T").Attr(
      "T: {half, bfloat16, float, double}"));
}

}  // namespace runtime
}  // namespace ckpt
