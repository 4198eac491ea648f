// ckpt/runtime/session.h — runs a Graph on the CPU.
//
//   ckpt::Session session(&graph);
//   CKPT_RETURN_IF_ERROR(session.Run({}, {}, {init}).status());
//   CKPT_ASSIGN_OR_RETURN(std::vector<ckpt::Tensor> out,
//                         session.Run({{xs, x_data}, {ys, y_data}}, {loss}, {train}));
//
// Run(feeds, fetches, targets) evaluates exactly the nodes the fetches and
// targets need, in dependency order (data and control inputs). Any output
// may be fed, not only a placeholder: a fed output replaces its node's value
// and the node does not run for it. A fed value must have the output's dtype
// and a shape compatible with its static shape (a placeholder's declared
// shape), else InvalidArgument naming the tensor. A placeholder needed but
// not fed is InvalidArgument naming it; a variable read before it was
// assigned is FailedPrecondition "uninitialized value <name>"; an op with
// no CPU kernel here is Unimplemented naming the op and the node.
//
// Variables live in the session (one value per VariableV2/Variable node,
// keyed by its shared_name or node name), as in TensorFlow: two sessions on
// one graph have separate variables. The graph may grow between runs (a
// Saver or an optimizer added later); the session sees new nodes.
//
// Run caches the execution plan for each (feeds, fetches, targets)
// combination, so a training loop does no per-step planning.
//
// Thread safety: Run may be called from several threads; calls are
// serialized. The graph must not be changed during a Run.
#ifndef CKPT_RUNTIME_SESSION_H_
#define CKPT_RUNTIME_SESSION_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/tensor.h"

namespace ckpt {

namespace runtime {
class SessionState;
class Executor;
}  // namespace runtime

struct SessionOptions {
  // Seed for random ops that set neither a graph nor an op seed. 0: a new
  // nondeterministic seed per session (TensorFlow's behaviour).
  uint64_t default_seed = 0;
};

class Session {
 public:
  // `graph` must outlive the session.
  explicit Session(Graph* graph, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  absl::StatusOr<std::vector<Tensor>> Run(
      const std::vector<std::pair<Output, Tensor>>& feeds,
      const std::vector<Output>& fetches,
      const std::vector<Operation>& targets = {});

  // The same by name: feeds and fetches "node:index" (":0" may be left
  // out), targets node names.
  absl::StatusOr<std::vector<Tensor>> Run(
      const std::vector<std::pair<std::string, Tensor>>& feeds,
      const std::vector<std::string>& fetches,
      const std::vector<std::string>& targets = {});

  Graph* graph() const { return graph_; }

  // The current value of a variable node, by node name (NotFound; or
  // FailedPrecondition when uninitialized). The tensor aliases the variable.
  absl::StatusOr<Tensor> VariableValue(absl::string_view node_name) const;

 private:
  Graph* graph_;
  SessionOptions options_;
  mutable absl::Mutex mu_;  // serializes Run
  std::unique_ptr<runtime::SessionState> state_;
  std::unique_ptr<runtime::Executor> executor_;
};

}  // namespace ckpt

#endif  // CKPT_RUNTIME_SESSION_H_
