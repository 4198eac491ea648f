// Runs the part of a graph a Session::Run needs, in dependency order, on the
// calling thread. Private to the runtime.
//
// A Plan is made once per (feeds, fetches, targets) combination: the nodes
// to run in a fixed topological order (ties broken by node id, so runs are
// deterministic), where each input comes from, and after which step each
// intermediate value is released. Releasing values as soon as their last
// consumer ran keeps memory low and lets updates such as
// ApplyGradientDescent work in place once no one else reads the variable.
#ifndef CKPT_RUNTIME_EXECUTOR_H_
#define CKPT_RUNTIME_EXECUTOR_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/kernel.h"

namespace ckpt {
namespace runtime {

class Executor {
 public:
  Executor(Graph* graph, SessionState* state);
  ~Executor();

  absl::StatusOr<std::vector<Tensor>> Run(const std::vector<std::pair<Output, Tensor>>& feeds,
                                          const std::vector<Output>& fetches,
                                          const std::vector<Operation>& targets);

 private:
  struct Plan;
  absl::StatusOr<Plan*> GetPlan(const std::vector<std::pair<Output, Tensor>>& feeds,
                                const std::vector<Output>& fetches,
                                const std::vector<Operation>& targets);
  absl::StatusOr<std::unique_ptr<Plan>> MakePlan(
      const std::vector<std::pair<Output, Tensor>>& feeds, const std::vector<Output>& fetches,
      const std::vector<Operation>& targets);
  absl::StatusOr<OpKernel*> KernelFor(Node* node);

  Graph* graph_;
  SessionState* state_;
  std::vector<std::unique_ptr<OpKernel>> kernels_;  // by node id; made on first use
  absl::flat_hash_map<std::string, std::unique_ptr<Plan>> plans_;
};

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_EXECUTOR_H_
