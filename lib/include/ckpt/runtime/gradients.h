// ckpt/runtime/gradients.h — symbolic differentiation, as tf.gradients.
//
// AddSymbolicGradients adds to the graph the nodes that compute the
// gradients of `ys` (summed) with respect to each of `xs`, and returns them:
//
//   // loss: a scalar ckpt::Output computed from variables w and b (ckpt::Var)
//   CKPT_ASSIGN_OR_RETURN(std::vector<ckpt::Output> g,
//                         ckpt::AddSymbolicGradients(root, {loss}, {w.ref(), b.value()}));
//   // g[0] is d(loss)/dw, the same shape as w.
//
// The graph is the one TensorFlow 1.x's Python builds: every node goes in a
// "gradients" name scope ("gradients", "gradients_1", ...); each y is seeded
// with Fill(Shape(y), 1) ("gradients/Shape", "gradients/Const",
// "gradients/Fill") unless `grad_ys` gives its gradient; each differentiated
// node's gradient nodes go in "gradients/<node>_grad/"; a tensor consumed
// several times gets the AddN ("gradients/AddN") of its gradients; and the
// gradient functions use the ops TensorFlow's use (Shape,
// BroadcastGradientArgs, Sum, Reshape, MatMul, ReluGrad, ...), so the graph
// exports and runs in TensorFlow too.
//
// What flows where:
// - Only floating-point and complex tensors carry gradients; none flows
//   into an integer tensor, and none through StopGradient or the other ops
//   registered without a gradient (Shape, ZerosLike, random ops, ...).
// - An x that no y depends on gets an invalid Output (Output::valid() is
//   false), as tf.gradients returns None.
// - x may be a variable's reference (Var::ref(), the VariableV2 output); its
//   gradient is what flows back through the variable's "<name>/read".
// - A node on a path from an x to a y whose op has no gradient function is
//   Unimplemented "no gradient is defined for op 'Foo' (node 'bar')".
//
// Errors are returned and also recorded in the scope (Scope::status()), as
// the builders of ops.h record theirs. The scope's control dependencies, if
// any, apply to every node added.
//
// Thread safety: like any graph building, needs exclusive use of the graph.
// The registry may be read and extended from several threads.
#ifndef CKPT_RUNTIME_GRADIENTS_H_
#define CKPT_RUNTIME_GRADIENTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/scope.h"

namespace ckpt {

struct GradientOptions {
  // tf.gradients(gate_gradients=True): when a node's gradient function
  // returns more than one input gradient, they pass through a "tuple" (a
  // NoOp "<node>_grad/tuple/group_deps" and an Identity
  // "<node>_grad/tuple/control_dependency[_N]" per gradient), so none is
  // used before all are computed. Optimizers set it (TensorFlow's GATE_OP).
  bool gate_gradients = false;
};

absl::StatusOr<std::vector<Output>> AddSymbolicGradients(const Scope& s,
                                                         const std::vector<Output>& ys,
                                                         const std::vector<Output>& xs,
                                                         const std::vector<Output>& grad_ys = {});
absl::StatusOr<std::vector<Output>> AddSymbolicGradients(const Scope& s,
                                                         const std::vector<Output>& ys,
                                                         const std::vector<Output>& xs,
                                                         const std::vector<Output>& grad_ys,
                                                         const GradientOptions& options);

// A node being differentiated: the node and its data inputs, resolved.
struct GradOp {
  Node* node = nullptr;
  std::vector<Output> inputs;
  Output output(int i) const { return Output(node, i); }
  const ::tensorflow::NodeDef& def() const { return node->def; }
};

// A gradient function. `grads` has one entry per output of the node: the
// gradient flowing back into it, or an invalid Output when none does (only
// possible for outputs of non-floating dtypes; floating outputs without a
// gradient get zeros). The function sets (*grad_inputs)[i] (already sized
// to the number of data inputs, all invalid) to the gradient for input i,
// or leaves it invalid for none. It builds its nodes in `s`, the node's
// "gradients/<node>_grad" scope, and returns an error (or records one in
// `s`) when it cannot.
using GradFunc = absl::Status (*)(const Scope& s, const GradOp& op,
                                  const std::vector<Output>& grads,
                                  std::vector<Output>* grad_inputs);

// Gradient functions by op name (TensorFlow's RegisterGradient and
// NotDifferentiable).
class GradientRegistry {
 public:
  // Holds the gradients of every op ckpt builds (see gradients/*.cc).
  static GradientRegistry& Global();

  GradientRegistry() = default;
  GradientRegistry(const GradientRegistry&) = delete;
  GradientRegistry& operator=(const GradientRegistry&) = delete;

  // Replaces any function registered for `op`.
  void Register(const std::string& op, GradFunc fn);
  // Gradients stop at `op`: nothing flows back to its inputs.
  void RegisterNoGradient(const std::string& op);

  // The function for `op`; nullptr for an op registered without a
  // gradient; Unimplemented naming the op and `node_name` when unknown.
  absl::StatusOr<GradFunc> Lookup(absl::string_view op, absl::string_view node_name) const;
  std::vector<std::string> ListOps() const;  // sorted, with and without gradient

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, GradFunc, std::less<>> fns_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ckpt

#endif  // CKPT_RUNTIME_GRADIENTS_H_
