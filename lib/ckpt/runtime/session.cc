#include "ckpt/runtime/session.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ckpt/runtime/executor.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/status_macros.h"

namespace ckpt {


Session::Session(Graph* graph, SessionOptions options)
    : graph_(graph),
      options_(options),
      state_(std::make_unique<runtime::SessionState>(options.default_seed)),
      executor_(std::make_unique<runtime::Executor>(graph, state_.get())) {}

Session::~Session() = default;

absl::StatusOr<std::vector<Tensor>> Session::Run(
    const std::vector<std::pair<Output, Tensor>>& feeds, const std::vector<Output>& fetches,
    const std::vector<Operation>& targets) {
  absl::MutexLock lock(&mu_);
  return executor_->Run(feeds, fetches, targets);
}

absl::StatusOr<std::vector<Tensor>> Session::Run(
    const std::vector<std::pair<std::string, Tensor>>& feeds,
    const std::vector<std::string>& fetches, const std::vector<std::string>& targets) {
  std::vector<std::pair<Output, Tensor>> f;
  f.reserve(feeds.size());
  for (const auto& [name, t] : feeds) {
    CKPT_ASSIGN_OR_RETURN(Output out, graph_->FindOutput(name));
    f.emplace_back(out, t);
  }
  std::vector<Output> outs;
  outs.reserve(fetches.size());
  for (const std::string& name : fetches) {
    CKPT_ASSIGN_OR_RETURN(Output out, graph_->FindOutput(name));
    outs.push_back(out);
  }
  std::vector<Operation> ops;
  ops.reserve(targets.size());
  for (const std::string& name : targets) {
    CKPT_ASSIGN_OR_RETURN(Operation op, graph_->FindOperation(name));
    ops.push_back(op);
  }
  return Run(f, outs, ops);
}

absl::StatusOr<Tensor> Session::VariableValue(absl::string_view node_name) const {
  absl::MutexLock lock(&mu_);
  std::string key(node_name);
  if (Node* node = graph_->FindNode(node_name); node != nullptr) {
    auto shared = node->def.attr().find("shared_name");
    if (shared != node->def.attr().end() && !shared->second.s().empty()) {
      key = shared->second.s();
    }
  }
  runtime::VarSlot* var = state_->FindVariable(key);
  if (var == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no variable '", node_name, "' in this session (never run)"));
  }
  if (!var->initialized()) {
    return absl::FailedPreconditionError(
        absl::StrCat("attempting to use uninitialized value ", var->name));
  }
  return var->value.Clone();
}

}  // namespace ckpt
