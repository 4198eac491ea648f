// Fuzzes the runtime's graph import and execution: the input is a binary
// MetaGraphDef (a `.meta` file), read through an in-memory Env.
//
// When ckpt::ImportMetaGraph accepts it, the target checks what import
// promises: the graph exports again (ckpt::ExportMetaGraph), that GraphDef
// imports again with the same nodes, and exporting the second import gives
// the same GraphDef (import is a fixed point after one round). Then it runs,
// in one Session, up to kMaxFetches nodes that need no feed, one Run each
// and then all together, and checks that every fetched tensor has the dtype
// its node declares. A rejected graph must be rejected with a status, never
// Internal or Unknown (those mean the runtime lost track of something).
//
// Running hostile graphs needs limits, or an input could ask for a
// [100000, 100000] Fill and fail the run by exhausting memory (which a
// Session would do in TensorFlow too: it is not a bug). Before a Run the
// target bounds, from the graph alone, the element count of every node the
// Run executes (see RunBounds) and runs only when every bound is at most
// kMaxElements and at most kMaxNodesPerRun nodes run. Nodes that need a feed
// (Placeholder) or touch files (SaveV2, RestoreV2, ...: their kernels use the
// real file system) are never run.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/meta_graph.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor_proto.h"
#include "fuzz_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "memory_env.h"

namespace {

using ckpt::Graph;
using ckpt::Node;

constexpr size_t kMaxInputBytes = size_t{1} << 17;
constexpr int kMaxFetches = 4;
constexpr int kMaxNodesPerRun = 48;
constexpr uint64_t kMaxElements = uint64_t{1} << 20;
// Elements times (bytes per string element + 1): what a node may hold.
constexpr uint64_t kMaxBytes = uint64_t{1} << 24;
constexpr uint64_t kHuge = uint64_t{1} << 62;

uint64_t SatMul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kHuge) return kHuge;
  return r;
}
uint64_t SatAdd(uint64_t a, uint64_t b) { return std::min(kHuge, a + std::min(b, kHuge)); }

std::string Deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  return out;
}

bool Contains(std::initializer_list<const char*> ops, const std::string& op) {
  for (const char* o : ops) {
    if (op == o) return true;
  }
  return false;
}

// Kernels that read or write files through the real file system.
bool TouchesFiles(const std::string& op) {
  return Contains({"SaveV2", "RestoreV2", "MergeV2Checkpoints", "Save", "SaveSlices", "Restore",
                   "RestoreSlice"},
                  op);
}

// Ops whose outputs are no larger than their first input.
bool BoundedByFirstInput(const std::string& op) {
  return Contains({"Identity", "StopGradient", "PlaceholderWithDefault", "Reshape", "ExpandDims",
                   "Squeeze", "Transpose", "Slice", "StridedSlice", "Neg", "Square", "Sqrt",
                   "Rsqrt", "Reciprocal", "Exp", "Log", "Abs", "Sign", "Floor", "Ceil", "Round",
                   "Cast", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "ArgMax", "ArgMin",
                   "Sum", "Mean", "Prod", "Max", "Min", "All", "Any", "ZerosLike", "OnesLike",
                   "LogicalNot", "Unpack", "L2Loss", "BiasAddGrad", "BiasAdd", "BiasAddV1",
                   "Shape", "Size", "Rank", "IsVariableInitialized"},
                  op);
}

// Ops that require their inputs to have one shape (or be scalars): no
// larger than the largest input.
bool BoundedByLargestInput(const std::string& op) {
  return Contains({"AddN", "AssignAdd", "AssignSub", "ApplyGradientDescent", "ApplyMomentum",
                   "ApplyAdam", "ReluGrad", "SigmoidGrad", "TanhGrad", "SqrtGrad", "RsqrtGrad",
                   "ReciprocalGrad"},
                  op);
}

// Ops whose output concatenates their inputs.
bool BoundedBySumOfInputs(const std::string& op) {
  return Contains({"ConcatV2", "Concat", "Pack", "BroadcastGradientArgs"}, op);
}

struct Bound {
  uint64_t elements = 0;
  uint64_t bytes = 0;  // longest string element (0 for other dtypes)
};

// Bounds what the nodes of one Run can hold; see the file comment. A
// variable's bound is the largest value any approved Run may have assigned
// it (kept across Runs, keyed like the session keys variables).
class RunBounds {
 public:
  explicit RunBounds(const Graph& graph) : graph_(graph) {}

  // What running some nodes executes.
  struct Plan {
    std::vector<const Node*> nodes;          // topological order unless `cycle`
    bool cycle = false;
    std::map<std::string, uint64_t> vars;    // variable bounds after the Run
  };

  // The plan of a Run of `roots`; nullopt when it cannot be bounded, needs
  // a feed, touches files or is too big. A cycle is allowed: the executor
  // refuses it before running anything.
  std::optional<Plan> Check(const std::vector<const Node*>& roots) const {
    std::vector<const Node*> closure;
    std::set<const Node*> seen;
    std::vector<const Node*> stack(roots.begin(), roots.end());
    while (!stack.empty()) {
      const Node* n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second) continue;
      if (static_cast<int>(closure.size()) == kMaxNodesPerRun) return std::nullopt;
      if (n->op() == "Placeholder" || n->op() == "PlaceholderV2" || TouchesFiles(n->op())) {
        return std::nullopt;
      }
      closure.push_back(n);
      for (const std::string& in : n->def.input()) {
        const Node* src = Source(in);
        if (src == nullptr) return std::nullopt;  // import would have refused it
        stack.push_back(src);
      }
    }
    // Kahn's order within the closure.
    std::map<const Node*, int> pending;
    std::map<const Node*, std::vector<const Node*>> consumers;
    for (const Node* n : closure) {
      pending[n];
      for (const std::string& in : n->def.input()) {
        const Node* src = Source(in);
        ++pending[n];
        consumers[src].push_back(n);
      }
    }
    std::vector<const Node*> order;
    for (const Node* n : closure) {
      if (pending[n] == 0) order.push_back(n);
    }
    for (size_t i = 0; i < order.size(); ++i) {
      for (const Node* c : consumers[order[i]]) {
        if (--pending[c] == 0) order.push_back(c);
      }
    }
    if (order.size() != closure.size()) return Plan{closure, true, var_bounds_};

    // Assigning may grow a variable that the same Run reads again; iterate
    // until the variables' bounds settle (a loop that keeps growing them is
    // refused).
    std::map<std::string, uint64_t> vars = var_bounds_;
    for (int pass = 0;; ++pass) {
      if (pass == 3) return std::nullopt;
      std::map<const Node*, Bound> bounds;
      bool changed = false;
      for (const Node* n : order) {
        std::optional<Bound> b = Of(*n, bounds, vars);
        if (!b || b->elements > kMaxElements ||
            SatMul(b->elements, SatAdd(b->bytes, 1)) > kMaxBytes) {
          return std::nullopt;
        }
        bounds[n] = *b;
        if (n->op() == "Assign" || BoundedByLargestInput(n->op())) {
          std::optional<std::string> var = TargetVariable(*n);
          if (!var) return std::nullopt;
          uint64_t& v = vars[*var];
          if (b->elements > v) {
            v = b->elements;
            changed = true;
          }
        }
      }
      if (!changed) break;
    }
    return Plan{order, false, vars};
  }

  // Takes the variable bounds of a plan that is about to run.
  void Commit(const Plan& plan) { var_bounds_ = plan.vars; }

 private:
  const Node* Source(const std::string& input) const {
    absl::StatusOr<ckpt::TensorId> id = ckpt::ParseTensorName(input);
    if (!id.ok()) return nullptr;
    return graph_.FindNode(id->node);
  }

  static std::string VariableKey(const Node& n) {
    std::string name = n.name();
    auto shared = n.def.attr().find("shared_name");
    if (shared != n.def.attr().end() && !shared->second.s().empty()) name = shared->second.s();
    auto container = n.def.attr().find("container");
    if (container != n.def.attr().end() && !container->second.s().empty()) {
      name = absl::StrCat(container->second.s(), "/", name);
    }
    return name;
  }

  // The variable a ref-updating node writes, following references back.
  std::optional<std::string> TargetVariable(const Node& n) const {
    const Node* cur = &n;
    for (int i = 0; i < kMaxNodesPerRun && cur != nullptr; ++i) {
      if (cur->op() == "VariableV2" || cur->op() == "Variable") return VariableKey(*cur);
      if (cur->def.input_size() == 0) return std::nullopt;
      if (cur->op() != "Assign" && !BoundedByLargestInput(cur->op())) return std::nullopt;
      cur = Source(cur->def.input(0));
    }
    return std::nullopt;
  }

  // The integer values of a Const node feeding input `i` of `n`.
  std::optional<std::vector<double>> ConstValues(const Node& n, int i) const {
    if (i >= n.def.input_size()) return std::nullopt;
    const Node* src = Source(n.def.input(i));
    if (src == nullptr || src->op() != "Const") return std::nullopt;
    auto value = src->def.attr().find("value");
    if (value == src->def.attr().end()) return std::nullopt;
    // Its size was bounded before: a Const precedes its consumers.
    absl::StatusOr<ckpt::Tensor> t = ckpt::TensorFromProto(value->second.tensor());
    if (!t.ok()) return std::nullopt;
    std::vector<double> out;
    const int64_t count = t->NumElements();
    switch (t->dtype()) {
      case ckpt::DT_INT32:
        for (int64_t k = 0; k < count; ++k) out.push_back(t->flat<int32_t>()[k]);
        break;
      case ckpt::DT_INT64:
        for (int64_t k = 0; k < count; ++k) out.push_back(static_cast<double>(t->flat<int64_t>()[k]));
        break;
      case ckpt::DT_FLOAT:
        for (int64_t k = 0; k < count; ++k) out.push_back(t->flat<float>()[k]);
        break;
      case ckpt::DT_DOUBLE:
        for (int64_t k = 0; k < count; ++k) out.push_back(t->flat<double>()[k]);
        break;
      default:
        return std::nullopt;
    }
    return out;
  }

  // The number of elements a shape given as values would have.
  static std::optional<uint64_t> ElementsOf(const std::vector<double>& dims) {
    uint64_t n = 1;
    for (double d : dims) {
      if (!std::isfinite(d)) return std::nullopt;
      n = SatMul(n, static_cast<uint64_t>(std::min(std::fabs(d), 1e18)));
    }
    return n;
  }

  std::optional<Bound> Of(const Node& n, const std::map<const Node*, Bound>& bounds,
                          const std::map<std::string, uint64_t>& vars) const {
    std::vector<Bound> in;
    for (const std::string& name : n.def.input()) {
      if (!name.empty() && name[0] == '^') continue;
      auto b = bounds.find(Source(name));
      if (b == bounds.end()) return std::nullopt;
      in.push_back(b->second);
    }
    uint64_t max_bytes = 0, max_elements = 0, sum = 0, product = 1;
    for (const Bound& b : in) {
      max_bytes = std::max(max_bytes, b.bytes);
      max_elements = std::max(max_elements, b.elements);
      sum = SatAdd(sum, b.elements);
      product = SatMul(product, std::max<uint64_t>(b.elements, 1));
    }
    const std::string& op = n.op();
    Bound out;
    out.bytes = max_bytes;
    if (op == "Const") {
      auto value = n.def.attr().find("value");
      if (value == n.def.attr().end()) return Bound{};
      const auto& proto = value->second.tensor();
      uint64_t elements = 1;
      for (const auto& d : proto.tensor_shape().dim()) {
        elements = SatMul(elements, static_cast<uint64_t>(std::max<int64_t>(d.size(), 0)));
      }
      out.elements = elements;
      out.bytes = 0;
      if (proto.dtype() == ckpt::DT_STRING) {
        for (const std::string& s : proto.string_val()) {
          out.bytes = std::max<uint64_t>(out.bytes, s.size());
        }
        out.bytes = std::max<uint64_t>(out.bytes, proto.tensor_content().size());
      }
    } else if (op == "VariableV2" || op == "Variable") {
      auto var = vars.find(VariableKey(n));
      out.elements = var == vars.end() ? 0 : var->second;
      auto dtype = n.def.attr().find("dtype");
      if (dtype != n.def.attr().end() && dtype->second.type() == ckpt::DT_STRING) {
        return std::nullopt;
      }
    } else if (op == "Assign") {
      if (in.size() != 2) return std::nullopt;
      out = in[1];
    } else if (op == "Fill") {
      auto dims = ConstValues(n, 0);
      if (!dims) return std::nullopt;
      auto e = ElementsOf(*dims);
      if (!e) return std::nullopt;
      out.elements = *e;
    } else if (op == "RandomUniform" || op == "RandomStandardNormal" ||
               op == "TruncatedNormal") {
      auto dims = ConstValues(n, 0);
      if (!dims) return std::nullopt;
      auto e = ElementsOf(*dims);
      if (!e) return std::nullopt;
      out.elements = *e;
    } else if (op == "Tile") {
      auto multiples = ConstValues(n, 1);
      if (!multiples || in.empty()) return std::nullopt;
      auto e = ElementsOf(*multiples);
      if (!e) return std::nullopt;
      out.elements = SatMul(in[0].elements, *e);
    } else if (op == "OneHot") {
      auto depth = ConstValues(n, 1);
      if (!depth || depth->size() != 1 || in.empty()) return std::nullopt;
      auto e = ElementsOf(*depth);
      if (!e) return std::nullopt;
      out.elements = SatMul(in[0].elements, *e);
    } else if (op == "Range") {
      auto start = ConstValues(n, 0), limit = ConstValues(n, 1), delta = ConstValues(n, 2);
      if (!start || !limit || !delta || start->size() != 1 || limit->size() != 1 ||
          delta->size() != 1) {
        return std::nullopt;
      }
      const double count = std::fabs(((*limit)[0] - (*start)[0]) / (*delta)[0]);
      if (!std::isfinite(count) && (*delta)[0] != 0) return std::nullopt;
      out.elements = (*delta)[0] == 0 ? 0 : static_cast<uint64_t>(std::min(count + 1, 1e18));
    } else if (op == "StringJoin" || op == "ShardedFilename" || op == "ShardedFilespec") {
      out.elements = product;
      uint64_t bytes = 32;
      for (const Bound& b : in) bytes = SatAdd(bytes, b.bytes);
      auto sep = n.def.attr().find("separator");
      if (sep != n.def.attr().end()) {
        bytes = SatAdd(bytes, SatMul(sep->second.s().size(), in.size()));
      }
      out.bytes = bytes;
    } else if (BoundedByFirstInput(op)) {
      if (in.empty()) return std::nullopt;
      out.elements = in[0].elements;
    } else if (BoundedByLargestInput(op)) {
      out.elements = max_elements;
    } else if (BoundedBySumOfInputs(op)) {
      out.elements = sum;
    } else {
      // Broadcasting, MatMul (m*n <= |a|*|b|, and so is its cost m*k*n),
      // Gather, Select, ...: at most the product of the inputs.
      out.elements = in.empty() ? 1 : product;
    }
    return out;
  }

  const Graph& graph_;
  std::map<std::string, uint64_t> var_bounds_;
};

bool AcceptableError(const absl::Status& s) {
  return !absl::IsInternal(s) && !absl::IsUnknown(s) && !s.ok();
}

// Runs up to kMaxFetches nodes that need no feed, each alone and then all
// at once. Those that run the most nodes are chosen first, each outside what
// the ones before ran, so that one input runs as much of its graph as the
// limits allow.
void RunSome(Graph* graph) {
  ckpt::SessionOptions options;
  options.default_seed = 1;  // random ops without seeds: reproducible
  ckpt::Session session(graph, options);
  RunBounds bounds(*graph);
  std::vector<std::pair<size_t, const Node*>> candidates;  // (nodes run, node)
  for (const auto& n : graph->nodes()) {
    std::optional<RunBounds::Plan> plan = bounds.Check({n.get()});
    if (plan) candidates.emplace_back(plan->nodes.size(), n.get());
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<const Node*> chosen;
  std::set<const Node*> covered;
  for (const auto& [size, n] : candidates) {
    if (static_cast<int>(chosen.size()) == kMaxFetches) break;
    if (covered.count(n) > 0) continue;
    std::optional<RunBounds::Plan> plan = bounds.Check({n});
    if (!plan) continue;  // a variable bound grew since
    bounds.Commit(*plan);
    covered.insert(plan->nodes.begin(), plan->nodes.end());
    chosen.push_back(n);
  }
  auto run = [&](const std::vector<const Node*>& nodes) {
    std::vector<std::string> fetches, targets;
    std::vector<const Node*> fetched;
    for (const Node* n : nodes) {
      if (n->num_outputs() > 0) {
        fetches.push_back(n->name() + ":0");
        fetched.push_back(n);
      } else {
        targets.push_back(n->name());
      }
    }
    absl::StatusOr<std::vector<ckpt::Tensor>> out =
        session.Run(std::vector<std::pair<std::string, ckpt::Tensor>>{}, fetches, targets);
    if (!out.ok()) {
      FUZZ_CHECK(AcceptableError(out.status()), std::string(out.status().ToString()).c_str());
      return;
    }
    FUZZ_CHECK(out->size() == fetches.size(), "Run returned another number of tensors");
    for (size_t i = 0; i < out->size(); ++i) {
      const ckpt::Tensor& t = (*out)[i];
      const ckpt::DType want = ckpt::BaseType(fetched[i]->signature.output_types[0]);
      FUZZ_CHECK(t.dtype() == want,
                 absl::StrCat(fetches[i], " is ", ckpt::DTypeName(t.dtype()), ", declared ",
                              ckpt::DTypeName(want))
                     .c_str());
    }
  };
  for (const Node* n : chosen) run({n});
  if (chosen.size() > 1) {
    std::optional<RunBounds::Plan> plan = bounds.Check(chosen);
    if (plan) {
      bounds.Commit(*plan);
      run(chosen);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputBytes) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  ckpt::fuzz::MemoryEnv env;
  env.SetFile("/fuzz/model.ckpt.meta", bytes);
  absl::StatusOr<ckpt::ImportedMetaGraph> imported =
      ckpt::ImportMetaGraph("/fuzz/model.ckpt.meta", &env);
  if (!imported.ok()) {
    FUZZ_CHECK(AcceptableError(imported.status()),
               std::string(imported.status().ToString()).c_str());
    return 0;
  }
  Graph* graph = imported->graph.get();

  absl::StatusOr<tensorflow::MetaGraphDef> exported =
      ckpt::ExportMetaGraph(*graph, imported->saver.get());
  FUZZ_CHECK(exported.ok(), std::string(exported.status().ToString()).c_str());
  absl::StatusOr<std::unique_ptr<Graph>> again = Graph::FromGraphDef(exported->graph_def());
  FUZZ_CHECK(again.ok(), std::string(again.status().ToString()).c_str());
  FUZZ_CHECK((*again)->num_nodes() == graph->num_nodes(), "reimport changed the node count");
  absl::StatusOr<tensorflow::MetaGraphDef> twice =
      ckpt::ExportMetaGraph(**again, /*saver=*/nullptr);
  FUZZ_CHECK(twice.ok(), std::string(twice.status().ToString()).c_str());
  FUZZ_CHECK(Deterministic(twice->graph_def()) == Deterministic(exported->graph_def()),
             "export -> import -> export changed the GraphDef");
  // The whole MetaGraphDef imports again too (variables, collections, saver).
  absl::StatusOr<ckpt::ImportedMetaGraph> reimported = ckpt::ImportMetaGraph(*exported, &env);
  FUZZ_CHECK(reimported.ok(), std::string(reimported.status().ToString()).c_str());
  FUZZ_CHECK(reimported->graph->variables().size() == graph->variables().size(),
             "reimport changed the variables");

  RunSome(graph);
  return 0;
}
