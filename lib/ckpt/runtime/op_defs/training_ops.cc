// OpDefs of TensorFlow's in-place optimizer updates on reference variables
// (core/ops/training_ops.cc).
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

void RegisterTrainingOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  def(OpDefBuilder("ApplyGradientDescent")
          .Input("var: Ref(T)")
          .Input("alpha: T")
          .Input("delta: T")
          .Output("out: Ref(T)")
          .Attr("T: numbertype")
          .Attr("use_locking: bool = false"));
  def(OpDefBuilder("ApplyMomentum")
          .Input("var: Ref(T)")
          .Input("accum: Ref(T)")
          .Input("lr: T")
          .Input("grad: T")
          .Input("momentum: T")
          .Output("out: Ref(T)")
          .Attr("T: numbertype")
          .Attr("use_locking: bool = false")
          .Attr("use_nesterov: bool = false"));
  def(OpDefBuilder("ApplyAdam")
          .Input("var: Ref(T)")
          .Input("m: Ref(T)")
          .Input("v: Ref(T)")
          .Input("beta1_power: T")
          .Input("beta2_power: T")
          .Input("lr: T")
          .Input("beta1: T")
          .Input("beta2: T")
          .Input("epsilon: T")
          .Input("grad: T")
          .Output("out: Ref(T)")
          .Attr("T: numbertype")
          .Attr("use_locking: bool = false")
          .Attr("use_nesterov: bool = false"));
}

}  // namespace runtime
}  // namespace ckpt
