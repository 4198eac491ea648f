// The OpDef families; each Register*Ops function lives in op_defs/<family>_ops.cc
// and all are called once from OpRegistry::Global().
#ifndef CKPT_RUNTIME_OP_DEFS_REGISTER_H_
#define CKPT_RUNTIME_OP_DEFS_REGISTER_H_

#include "ckpt/runtime/op_registry.h"

namespace ckpt {
namespace runtime {

void RegisterArrayOps(OpRegistry* r);
void RegisterMathOps(OpRegistry* r);
void RegisterNnOps(OpRegistry* r);
void RegisterStateOps(OpRegistry* r);
void RegisterRandomOps(OpRegistry* r);
void RegisterTrainingOps(OpRegistry* r);
void RegisterIoOps(OpRegistry* r);
void RegisterMiscOps(OpRegistry* r);

// Registers one of ckpt's own OpDefs; a spec that does not build is a bug in
// ckpt (found by the first test run), so it aborts with the reason.
void DefineBuiltinOp(OpRegistry* registry, const OpDefBuilder& builder);  // NoOp, string ops, parsing ops, control flow ops in imported graphs

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_OP_DEFS_REGISTER_H_
