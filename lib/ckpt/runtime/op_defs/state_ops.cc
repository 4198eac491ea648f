// OpDefs of TensorFlow's reference-variable ops (core/ops/state_ops.cc).
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

void RegisterStateOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  // "Variable" is the pre-1.0 name; graphs of that era still use it.
  for (const char* op : {"Variable", "VariableV2"}) {
    def(OpDefBuilder(op)
            .Output("ref: Ref(dtype)")
            .Attr("shape: shape")
            .Attr("dtype: type")
            .Attr("container: string = ''")
            .Attr("shared_name: string = ''")
            .SetIsStateful());
  }
  def(OpDefBuilder("Assign")
          .Input("ref: Ref(T)")
          .Input("value: T")
          .Output("output_ref: Ref(T)")
          .Attr("T: type")
          .Attr("validate_shape: bool = true")
          .Attr("use_locking: bool = true")
          .SetAllowsUninitializedInput());
  for (const char* op : {"AssignAdd", "AssignSub"}) {
    def(OpDefBuilder(op)
            .Input("ref: Ref(T)")
            .Input("value: T")
            .Output("output_ref: Ref(T)")
            .Attr("T: numbertype")
            .Attr("use_locking: bool = false"));
  }
  def(OpDefBuilder("IsVariableInitialized")
          .Input("ref: Ref(dtype)")
          .Output("is_initialized: bool")
          .Attr("dtype: type")
          .SetAllowsUninitializedInput());
}

}  // namespace runtime
}  // namespace ckpt
