#include "ckpt/runtime/executor.h"

#include <algorithm>
#include <queue>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {

using OutputSlot = KernelContext::OutputSlot;

struct Executor::Plan {
  struct Step {
    Node* node = nullptr;
    OpKernel* kernel = nullptr;
    std::vector<OutputSlot> outputs;      // this node's outputs during a run
    std::vector<OutputSlot*> inputs;      // where each data input comes from
    std::vector<bool> input_wants_ref;    // the op declares the input Ref(...)
    std::vector<OutputSlot*> release;     // values no later step reads
  };
  std::vector<Step> steps;
  std::vector<OutputSlot> feed_slots;     // in the order of the feeds
  std::vector<DType> feed_dtypes;
  std::vector<const PartialShape*> feed_shapes;
  std::vector<OutputSlot*> fetch_slots;
  bool allows_uninitialized(const Step& s) const {
    return s.node->op_def->allows_uninitialized_input();
  }
};

namespace {

std::string PlanKey(const std::vector<std::pair<Output, Tensor>>& feeds,
                    const std::vector<Output>& fetches, const std::vector<Operation>& targets) {
  std::string key;
  for (const auto& [out, t] : feeds) absl::StrAppend(&key, out.node()->id, ":", out.index(), ",");
  key.push_back('|');
  for (const Output& out : fetches) absl::StrAppend(&key, out.node()->id, ":", out.index(), ",");
  key.push_back('|');
  for (const Operation& op : targets) absl::StrAppend(&key, op.node()->id, ",");
  return key;
}

absl::Status NodeError(const Node& node, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("node '", node.name(), "' (op ", node.op(),
                                             "): ", s.message()));
}

}  // namespace

Executor::Executor(Graph* graph, SessionState* state) : graph_(graph), state_(state) {}
Executor::~Executor() = default;

absl::StatusOr<OpKernel*> Executor::KernelFor(Node* node) {
  if (kernels_.size() < static_cast<size_t>(graph_->num_nodes())) {
    kernels_.resize(graph_->num_nodes());
  }
  std::unique_ptr<OpKernel>& k = kernels_[node->id];
  if (k != nullptr) return k.get();
  KernelFactory factory = KernelRegistry::Global().Find(node->op());
  if (factory == nullptr) {
    return absl::UnimplementedError(absl::StrCat("op ", node->op(), " (node '", node->name(),
                                                 "') has no CPU kernel in ckpt"));
  }
  std::vector<DType> in_types, out_types;
  for (DType t : node->signature.input_types) in_types.push_back(BaseType(t));
  for (DType t : node->signature.output_types) out_types.push_back(BaseType(t));
  KernelConstruction c{node->def, *node->op_def, in_types, out_types, state_};
  absl::StatusOr<std::unique_ptr<OpKernel>> made = factory(c);
  if (!made.ok()) return NodeError(*node, made.status());
  k = *std::move(made);
  return k.get();
}

absl::StatusOr<std::unique_ptr<Executor::Plan>> Executor::MakePlan(
    const std::vector<std::pair<Output, Tensor>>& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  auto plan = std::make_unique<Plan>();
  const int n = graph_->num_nodes();
  const auto& nodes = graph_->nodes();

  // Fed outputs: (node id, index) -> feed position.
  absl::flat_hash_map<std::pair<int, int>, int> fed;
  plan->feed_slots.resize(feeds.size());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const Output& out = feeds[i].first;
    if (!fed.emplace(std::make_pair(out.node()->id, out.index()), static_cast<int>(i)).second) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", out.name(), "' is fed twice"));
    }
    plan->feed_dtypes.push_back(out.dtype());
    plan->feed_shapes.push_back(&out.shape());
  }

  // Resolve each node's inputs once: (source node, index), index -1 = control.
  auto inputs_of = [&](Node* node) -> absl::StatusOr<std::vector<std::pair<Node*, int>>> {
    std::vector<std::pair<Node*, int>> ins;
    ins.reserve(node->def.input_size());
    for (const std::string& name : node->def.input()) {
      CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(name));
      Node* src = graph_->FindNode(id.node);
      if (src == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("node '", node->name(), "': input '",
                                                       name, "' is not in the graph"));
      }
      ins.emplace_back(src, id.index);
    }
    return ins;
  };

  // Whether an input edge is satisfied by feeds: a data edge when its
  // output is fed; a control edge when every output of its node is (the
  // node is then replaced by the fed values and never runs, as in
  // TensorFlow, so `^placeholder` on a fed placeholder is satisfied).
  auto is_fed = [&fed](Node* src, int index) {
    if (index >= 0) return fed.contains(std::make_pair(src->id, index));
    if (src->num_outputs() == 0) return false;
    for (int i = 0; i < src->num_outputs(); ++i) {
      if (!fed.contains(std::make_pair(src->id, i))) return false;
    }
    return true;
  };

  // The nodes needed: walk back from fetches and targets, stopping at fed
  // outputs.
  std::vector<char> needed(n, 0);
  std::vector<std::vector<std::pair<Node*, int>>> node_inputs(n);
  std::vector<Node*> stack;
  auto need = [&](Node* node) {
    if (!needed[node->id]) {
      needed[node->id] = 1;
      stack.push_back(node);
    }
  };
  for (const Output& out : fetches) {
    if (!fed.contains(std::make_pair(out.node()->id, out.index()))) need(out.node());
  }
  for (const Operation& op : targets) need(op.node());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    CKPT_ASSIGN_OR_RETURN(node_inputs[node->id], inputs_of(node));
    for (const auto& [src, index] : node_inputs[node->id]) {
      if (is_fed(src, index)) continue;
      need(src);
    }
  }

  // Topological order (Kahn), smallest node id first among ready nodes.
  std::vector<int> pending(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (int id = 0; id < n; ++id) {
    if (!needed[id]) continue;
    for (const auto& [src, index] : node_inputs[id]) {
      if (is_fed(src, index)) continue;
      ++pending[id];
      consumers[src->id].push_back(id);
    }
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  int needed_count = 0;
  for (int id = 0; id < n; ++id) {
    if (!needed[id]) continue;
    ++needed_count;
    if (pending[id] == 0) ready.push(id);
  }
  std::vector<int> order;
  order.reserve(needed_count);
  while (!ready.empty()) {
    int id = ready.top();
    ready.pop();
    order.push_back(id);
    for (int c : consumers[id]) {
      if (--pending[c] == 0) ready.push(c);
    }
  }
  if (static_cast<int>(order.size()) != needed_count) {
    for (int id = 0; id < n; ++id) {
      if (needed[id] && pending[id] > 0) {
        return absl::UnimplementedError(absl::StrCat(
            "the graph has a cycle through node '", nodes[id]->name(),
            "' (control flow loops are not supported)"));
      }
    }
  }

  // Steps and where every value lives.
  std::vector<int> step_of(n, -1);
  plan->steps.resize(order.size());
  for (size_t s = 0; s < order.size(); ++s) {
    Node* node = nodes[order[s]].get();
    step_of[node->id] = static_cast<int>(s);
    Plan::Step& step = plan->steps[s];
    step.node = node;
    CKPT_ASSIGN_OR_RETURN(step.kernel, KernelFor(node));
    step.outputs.resize(node->num_outputs());
  }
  auto slot_for = [&](Node* src, int index) -> OutputSlot* {
    auto f = fed.find(std::make_pair(src->id, index));
    if (f != fed.end()) return &plan->feed_slots[f->second];
    return &plan->steps[step_of[src->id]].outputs[index];
  };
  absl::flat_hash_map<OutputSlot*, int> last_use;
  for (size_t s = 0; s < plan->steps.size(); ++s) {
    Plan::Step& step = plan->steps[s];
    const auto& ins = node_inputs[step.node->id];
    int data_index = 0;
    for (const auto& [src, index] : ins) {
      if (index < 0) continue;
      OutputSlot* slot = slot_for(src, index);
      step.inputs.push_back(slot);
      step.input_wants_ref.push_back(
          data_index < static_cast<int>(step.node->signature.input_is_ref.size()) &&
          step.node->signature.input_is_ref[data_index]);
      last_use[slot] = static_cast<int>(s);
      ++data_index;
    }
  }
  absl::flat_hash_set<OutputSlot*> fetched;
  for (const Output& out : fetches) {
    OutputSlot* slot = slot_for(out.node(), out.index());
    plan->fetch_slots.push_back(slot);
    fetched.insert(slot);
  }
  for (const auto& [slot, s] : last_use) {
    if (!fetched.contains(slot)) plan->steps[s].release.push_back(slot);
  }
  // Outputs nobody reads are released right after their node ran.
  for (Plan::Step& step : plan->steps) {
    for (OutputSlot& out : step.outputs) {
      if (!last_use.contains(&out) && !fetched.contains(&out)) step.release.push_back(&out);
    }
  }
  return plan;
}

absl::StatusOr<Executor::Plan*> Executor::GetPlan(
    const std::vector<std::pair<Output, Tensor>>& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  std::string key = PlanKey(feeds, fetches, targets);
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second.get();
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<Plan> plan, MakePlan(feeds, fetches, targets));
  Plan* raw = plan.get();
  plans_.emplace(std::move(key), std::move(plan));
  return raw;
}

absl::StatusOr<std::vector<Tensor>> Executor::Run(
    const std::vector<std::pair<Output, Tensor>>& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  for (const auto& [out, t] : feeds) {
    if (!out.valid() || out.node() != graph_->FindNode(out.node()->name())) {
      return absl::InvalidArgumentError("a feed names a tensor of another graph or is invalid");
    }
  }
  for (const Output& out : fetches) {
    if (!out.valid() || out.node() != graph_->FindNode(out.node()->name())) {
      return absl::InvalidArgumentError("a fetch is invalid or of another graph");
    }
  }
  for (const Operation& op : targets) {
    if (!op.valid() || op.node() != graph_->FindNode(op.node()->name())) {
      return absl::InvalidArgumentError("a target is invalid or of another graph");
    }
  }
  CKPT_ASSIGN_OR_RETURN(Plan * plan, GetPlan(feeds, fetches, targets));

  for (size_t i = 0; i < feeds.size(); ++i) {
    const Tensor& t = feeds[i].second;
    const Output& out = feeds[i].first;
    if (t.dtype() != plan->feed_dtypes[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot feed a ", DTypeName(t.dtype()), " value to tensor '", out.name(),
          "', which is ", DTypeName(plan->feed_dtypes[i])));
    }
    if (!plan->feed_shapes[i]->IsCompatibleWith(t.shape())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot feed a value of shape ", t.shape().DebugString(), " to tensor '", out.name(),
          "', which has shape ", plan->feed_shapes[i]->DebugString()));
    }
    plan->feed_slots[i].value = t;
    plan->feed_slots[i].ref = nullptr;
  }

  auto clear = [plan]() {
    for (Plan::Step& step : plan->steps) {
      for (OutputSlot& out : step.outputs) {
        out.value = Tensor();
        out.ref = nullptr;
      }
    }
    for (OutputSlot& f : plan->feed_slots) f.value = Tensor();
  };

  absl::Status status;
  std::vector<const Tensor*> inputs;
  std::vector<VarSlot*> refs;
  for (Plan::Step& step : plan->steps) {
    const size_t num_in = step.inputs.size();
    inputs.assign(num_in, nullptr);
    refs.assign(num_in, nullptr);
    for (size_t j = 0; j < num_in; ++j) {
      OutputSlot* in = step.inputs[j];
      if (in->ref != nullptr) {
        VarSlot* var = in->ref;
        if (step.input_wants_ref[j]) {
          refs[j] = var;
        } else if (!var->initialized() && !plan->allows_uninitialized(step)) {
          status = absl::FailedPreconditionError(absl::StrCat(
              "attempting to use uninitialized value ", var->name, " (read by node '",
              step.node->name(), "')"));
          break;
        }
        inputs[j] = &var->value;
      } else {
        if (step.input_wants_ref[j]) {
          status = NodeError(*step.node, absl::InvalidArgumentError(absl::StrCat(
                                             "input ", j, " must be a variable reference")));
          break;
        }
        inputs[j] = &in->value;
      }
    }
    if (!status.ok()) break;
    KernelContext ctx(&step.node->def, inputs, refs, &step.outputs, state_);
    status = step.kernel->Compute(&ctx);
    if (!status.ok()) {
      status = NodeError(*step.node, status);
      break;
    }
    for (OutputSlot* r : step.release) {
      r->value = Tensor();
      r->ref = nullptr;
    }
  }
  if (!status.ok()) {
    clear();
    return status;
  }

  std::vector<Tensor> results;
  results.reserve(plan->fetch_slots.size());
  for (size_t i = 0; i < plan->fetch_slots.size(); ++i) {
    OutputSlot* slot = plan->fetch_slots[i];
    if (slot->ref != nullptr) {
      if (!slot->ref->initialized()) {
        // The message first: clear() drops the slot's reference.
        absl::Status error = absl::FailedPreconditionError(
            absl::StrCat("attempting to use uninitialized value ", slot->ref->name,
                         " (fetched as '", fetches[i].name(), "')"));
        clear();
        return error;
      }
      results.push_back(slot->ref->value);
    } else {
      if (!slot->value.valid()) {
        clear();
        return absl::InternalError(
            absl::StrCat("tensor '", fetches[i].name(), "' was not computed"));
      }
      results.push_back(slot->value);
    }
  }
  clear();
  // A result still shared with the session (a variable, a constant, a fed
  // value) is copied, so neither side sees the other's later changes.
  for (Tensor& t : results) {
    if (!t.RefCountIsOne()) t = t.Clone();
  }
  return results;
}

}  // namespace runtime
}  // namespace ckpt
