// The tf.gradients algorithm (TensorFlow 1.x gradients_impl.py), so that the
// nodes come out in the same order with the same names:
//
// 1. The ops reachable forward from the xs, intersected with those the ys
//    depend on, are the "between" ops; each counts how many of its
//    consumers among them have yet to send it a gradient.
// 2. A queue starts with the ops of the ys. An op taken from the queue has
//    received every gradient it will get: several for one output are added
//    (AddN), then its gradient function computes the gradients of its
//    inputs, and each input op whose count drops to zero joins the queue.
// 3. An op of an x with no between op among its inputs is where gradients
//    stop; its aggregated output gradient is the result.
#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/builders/op_builder.h"
#include "ckpt/runtime/builders/shape_inference.h"
#include "ckpt/runtime/gradients.h"
#include "ckpt/runtime/gradients/register.h"
#include "ckpt/runtime/ops.h"

namespace ckpt {

GradientRegistry& GradientRegistry::Global() {
  static GradientRegistry* const registry = [] {
    auto* r = new GradientRegistry();
    runtime::RegisterMathGradients(r);
    runtime::RegisterNnGradients(r);
    runtime::RegisterArrayGradients(r);
    return r;
  }();
  return *registry;
}

void GradientRegistry::Register(const std::string& op, GradFunc fn) {
  absl::MutexLock lock(&mu_);
  fns_[op] = fn;
}

void GradientRegistry::RegisterNoGradient(const std::string& op) {
  absl::MutexLock lock(&mu_);
  fns_[op] = nullptr;
}

absl::StatusOr<GradFunc> GradientRegistry::Lookup(absl::string_view op,
                                                  absl::string_view node_name) const {
  absl::MutexLock lock(&mu_);
  auto it = fns_.find(op);
  if (it == fns_.end()) {
    return absl::UnimplementedError(absl::StrCat("no gradient is defined for op '", op,
                                                 "' (node '", node_name, "')"));
  }
  return it->second;
}

std::vector<std::string> GradientRegistry::ListOps() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [op, fn] : fns_) out.push_back(op);
  return out;
}

namespace {

// The data inputs of every node and the consumers of every node, by id.
struct Edges {
  std::vector<std::vector<Output>> inputs;
  std::vector<std::vector<int>> consumers;
};

absl::StatusOr<Edges> CollectEdges(const Graph& g) {
  Edges e;
  const int n = g.num_nodes();
  e.inputs.resize(n);
  e.consumers.resize(n);
  for (const auto& node : g.nodes()) {
    for (const std::string& in : node->def.input()) {
      if (!in.empty() && in[0] == '^') continue;
      absl::StatusOr<Output> src = g.FindOutput(in);
      if (!src.ok()) {
        return absl::InternalError(absl::StrCat("gradients: node '", node->name(),
                                                "' has an unresolved input: ",
                                                src.status().message()));
      }
      e.inputs[node->id].push_back(*src);
      e.consumers[src->node()->id].push_back(node->id);
    }
  }
  return e;
}

// control_flow_ops.tuple: the gradients wait for each other.
std::vector<Output> Tuple(const Scope& s, const std::vector<Output>& grads) {
  Scope t = s.NewSubScope("tuple");
  std::vector<Node*> gating;
  for (const Output& g : grads) {
    if (g.valid()) gating.push_back(g.node());
  }
  std::sort(gating.begin(), gating.end(), [](Node* a, Node* b) { return a->id < b->id; });
  gating.erase(std::unique(gating.begin(), gating.end()), gating.end());
  std::vector<Operation> deps(gating.begin(), gating.end());
  Operation gate = ops::NoOp(t.WithControlDependencies(deps).WithOpName("group_deps"));
  std::vector<Output> out(grads.size());
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].valid()) continue;
    out[i] = ops::Identity(t.WithControlDependencies({gate}).WithOpName("control_dependency"),
                           grads[i]);
  }
  return out;
}

absl::Status Fail(const Scope& s, absl::Status status) {
  s.UpdateStatus(status);
  return status;
}

}  // namespace

absl::StatusOr<std::vector<Output>> AddSymbolicGradients(const Scope& s,
                                                         const std::vector<Output>& ys,
                                                         const std::vector<Output>& xs,
                                                         const std::vector<Output>& grad_ys) {
  return AddSymbolicGradients(s, ys, xs, grad_ys, GradientOptions());
}

absl::StatusOr<std::vector<Output>> AddSymbolicGradients(const Scope& s,
                                                         const std::vector<Output>& ys,
                                                         const std::vector<Output>& xs,
                                                         const std::vector<Output>& grad_ys,
                                                         const GradientOptions& options) {
  if (!s.ok()) return s.status();
  if (ys.empty()) return Fail(s, absl::InvalidArgumentError("gradients: no ys given"));
  if (!grad_ys.empty() && grad_ys.size() != ys.size()) {
    return Fail(s, absl::InvalidArgumentError(absl::StrCat(
                       "gradients: ", grad_ys.size(), " grad_ys for ", ys.size(), " ys")));
  }
  for (size_t i = 0; i < ys.size(); ++i) {
    if (!ys[i].valid()) {
      return Fail(s, absl::InvalidArgumentError(absl::StrCat("gradients: ys[", i,
                                                             "] is an invalid Output")));
    }
    if (!grad_ys.empty() && grad_ys[i].valid() && grad_ys[i].dtype() != ys[i].dtype()) {
      return Fail(s, absl::InvalidArgumentError(absl::StrCat(
                         "gradients: grad_ys[", i, "] is ", DTypeName(grad_ys[i].dtype()),
                         " but ys[", i, "] ('", ys[i].name(), "') is ",
                         DTypeName(ys[i].dtype()))));
    }
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!xs[i].valid()) {
      return Fail(s, absl::InvalidArgumentError(absl::StrCat("gradients: xs[", i,
                                                             "] is an invalid Output")));
    }
  }
  Graph* g = s.graph();
  absl::StatusOr<Edges> edges_or = CollectEdges(*g);
  if (!edges_or.ok()) return Fail(s, edges_or.status());
  const Edges& edges = *edges_or;
  const int n = g->num_nodes();

  // Ops reachable from the xs.
  std::vector<bool> reached(n, false);
  {
    std::deque<int> queue;
    for (const Output& x : xs) queue.push_back(x.node()->id);
    while (!queue.empty()) {
      const int id = queue.front();
      queue.pop_front();
      if (reached[id]) continue;
      reached[id] = true;
      for (int c : edges.consumers[id]) queue.push_back(c);
    }
  }
  // Of those, the ones the ys depend on.
  std::vector<bool> between(n, false);
  std::vector<int> between_list;
  {
    std::deque<int> queue;
    for (const Output& y : ys) queue.push_back(y.node()->id);
    while (!queue.empty()) {
      const int id = queue.front();
      queue.pop_front();
      if (!reached[id]) continue;
      reached[id] = false;
      between[id] = true;
      between_list.push_back(id);
      for (const Output& in : edges.inputs[id]) queue.push_back(in.node()->id);
    }
  }
  std::vector<int> pending(n, 0);
  for (int id : between_list) {
    for (const Output& in : edges.inputs[id]) {
      if (between[in.node()->id]) ++pending[in.node()->id];
    }
  }
  std::vector<bool> stop(n, false);
  for (const Output& x : xs) {
    bool is_stop = true;
    for (const Output& in : edges.inputs[x.node()->id]) {
      if (pending[in.node()->id] > 0) is_stop = false;
    }
    stop[x.node()->id] = is_stop;
  }

  const Scope gs = s.NewSubScope("gradients");
  // grads[id][output]: the gradients received so far (aggregated to one
  // once the op is processed).
  std::vector<std::vector<std::vector<Output>>> grads(n);
  auto set_grad = [&](const Output& t, const Output& grad) {
    auto& per_op = grads[t.node()->id];
    if (per_op.empty()) per_op.resize(t.node()->num_outputs());
    per_op[t.index()].push_back(grad);
  };
  for (size_t i = 0; i < ys.size(); ++i) {
    Output grad = grad_ys.empty() ? Output() : grad_ys[i];
    if (!grad.valid()) {
      Output shape = ops::Shape(gs, ys[i]);
      Output one = runtime::ScalarConst(gs, ys[i].dtype(), 1);
      grad = ops::Fill(gs, shape, one);
      if (!gs.ok()) return gs.status();
    }
    set_grad(ys[i], grad);
  }

  std::deque<Node*> queue;
  {
    std::vector<bool> queued(n, false);
    for (const Output& y : ys) {
      const int id = y.node()->id;
      if (pending[id] == 0 && !queued[id]) {
        queued[id] = true;
        queue.push_back(y.node());
      }
    }
  }
  const GradientRegistry& registry = GradientRegistry::Global();
  while (!queue.empty()) {
    Node* node = queue.front();
    queue.pop_front();
    const int id = node->id;
    auto& per_op = grads[id];
    if (per_op.empty()) per_op.resize(node->num_outputs());
    std::vector<Output> out_grads(node->num_outputs());
    bool has_out_grads = false;
    for (int i = 0; i < node->num_outputs(); ++i) {
      std::vector<Output>& list = per_op[i];
      if (list.size() > 1) {
        Output sum = ops::AddN(gs, list);
        if (!gs.ok()) return gs.status();
        list = {sum};
      }
      if (!list.empty()) {
        out_grads[i] = list[0];
        has_out_grads = true;
      }
    }
    const std::vector<Output>& inputs = edges.inputs[id];
    std::vector<Output> in_grads(inputs.size());
    // An op of a y that no x reaches needs no gradient function.
    if (has_out_grads && !stop[id] && between[id]) {
      absl::StatusOr<GradFunc> fn = registry.Lookup(node->op(), node->name());
      if (!fn.ok()) return Fail(s, fn.status());
      if (*fn != nullptr) {
        for (int i = 0; i < node->num_outputs(); ++i) {
          const Output out(node, i);
          if (!out_grads[i].valid() && runtime::IsTrainableDType(out.dtype())) {
            out_grads[i] = ops::ZerosLike(gs, out);
          }
        }
        const Scope op_scope = gs.NewSubScope(absl::StrCat(node->name(), "_grad"));
        GradOp op{node, inputs};
        absl::Status st = (*fn)(op_scope, op, out_grads, &in_grads);
        if (st.ok()) st = op_scope.status();
        if (!st.ok()) {
          return Fail(s, absl::Status(st.code(),
                                      absl::StrCat("gradient of node '", node->name(), "' (op ",
                                                   node->op(), "): ", st.message())));
        }
        if (in_grads.size() != inputs.size()) {
          return Fail(s, absl::InternalError(absl::StrCat(
                             "gradient function of op ", node->op(), " returned ",
                             in_grads.size(), " gradients for ", inputs.size(), " inputs")));
        }
        int valid = 0;
        for (const Output& gi : in_grads) valid += gi.valid() ? 1 : 0;
        if (options.gate_gradients && valid > 1) {
          in_grads = Tuple(op_scope, in_grads);
          if (!op_scope.ok()) return op_scope.status();
        }
      }
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Output& in = inputs[i];
      const Output& gi = in_grads[i];
      if (!gi.valid() || !runtime::IsTrainableDType(in.dtype())) continue;
      // The gradient of an input has the input's shape (set_shape in
      // TensorFlow), which may tell more than the gradient nodes' shapes.
      absl::StatusOr<PartialShape> merged = runtime::MergeShapes(gi.shape(), in.shape());
      if (!merged.ok()) {
        return Fail(s, absl::InternalError(absl::StrCat(
                           "gradient '", gi.name(), "' for input ", i, " of node '",
                           node->name(), "' has shape ", gi.shape().DebugString(),
                           " but the input '", in.name(), "' has shape ",
                           in.shape().DebugString())));
      }
      gi.node()->output_shapes[gi.index()] = *merged;
      set_grad(in, gi);
    }
    for (const Output& in : inputs) {
      const int src = in.node()->id;
      if (--pending[src] == 0 && between[src]) queue.push_back(in.node());
    }
  }

  std::vector<Output> result(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto& per_op = grads[xs[i].node()->id];
    if (per_op.empty()) continue;
    const std::vector<Output>& list = per_op[xs[i].index()];
    if (list.size() == 1) {
      result[i] = list[0];
    } else if (list.size() > 1) {
      // An x whose op was never processed (its gradients arrived from ops
      // outside the between set) cannot have several; sum defensively.
      result[i] = ops::AddN(gs, list);
    }
  }
  if (!s.ok()) return s.status();
  return result;
}

}  // namespace ckpt
