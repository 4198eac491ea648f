// OpDefs of TensorFlow's stateful random ops (core/ops/random_ops.cc).
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

void RegisterRandomOps(OpRegistry* r) {
  // seed and seed2 both 0 means "seed from the clock", as in TensorFlow.
  for (const char* op : {"RandomStandardNormal", "TruncatedNormal", "RandomUniform"}) {
    DefineBuiltinOp(r, OpDefBuilder(op)
                           .Input("shape: T")
                           .Output("output: dtype")
                           .Attr("seed: int = 0")
                           .Attr("seed2: int = 0")
                           .Attr("dtype: {half, bfloat16, float, double}")
                           .Attr("T: {int32, int64}")
                           .SetIsStateful());
  }
}

}  // namespace runtime
}  // namespace ckpt
