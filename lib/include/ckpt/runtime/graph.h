// ckpt/runtime/graph.h — a dataflow graph of TensorFlow operations.
//
// A Graph is a set of named nodes, each a NodeDef checked against its OpDef
// (see op_registry.h) when added, so a graph built here exports to a GraphDef
// TensorFlow can import, and a GraphDef TensorFlow wrote imports here. Graphs
// are usually built through a Scope and the functions of ops.h:
//
//   ckpt::Graph graph;
//   ckpt::Scope root = ckpt::Scope::NewRootScope(&graph);
//   ckpt::Output x = ckpt::ops::Placeholder(root, ckpt::DT_FLOAT, {-1, 1});
//   ckpt::Output y = ckpt::ops::Add(root, x, ckpt::ops::Const(root, 1.0f));
//   tensorflow::GraphDef def = graph.ToGraphDef();
//
// Graph also keeps what TensorFlow's Python Graph keeps beside the nodes and
// writes into a MetaGraphDef: the variables (VariableDefs of the "variables"
// and "trainable_variables" collections) and named collections of nodes
// ("train_op").
//
// Thread safety: a Graph may be read from many threads; adding nodes needs
// exclusive access (and must not overlap Session::Run on the same graph).
#ifndef CKPT_RUNTIME_GRAPH_H_
#define CKPT_RUNTIME_GRAPH_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/dtype.h"
#include "ckpt/runtime/op_registry.h"
#include "ckpt/tensor_shape.h"
#include "graph.pb.h"
#include "tensor_shape.pb.h"
#include "variable.pb.h"

namespace ckpt {

// A shape that may be partly unknown: an unknown rank, or dims of -1.
class PartialShape {
 public:
  PartialShape() = default;  // unknown rank
  PartialShape(std::initializer_list<int64_t> dims);
  explicit PartialShape(std::vector<int64_t> dims);
  PartialShape(const TensorShape& shape);  // NOLINT: a known shape is a partial one

  static PartialShape Unknown() { return PartialShape(); }
  static absl::StatusOr<PartialShape> FromProto(const ::tensorflow::TensorShapeProto& proto);
  void ToProto(::tensorflow::TensorShapeProto* proto) const;

  bool unknown_rank() const { return unknown_rank_; }
  int rank() const { return unknown_rank_ ? -1 : static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }  // -1: unknown
  const std::vector<int64_t>& dims() const { return dims_; }
  bool IsFullyDefined() const;
  // Only when IsFullyDefined().
  TensorShape ToShape() const;
  // Whether a tensor of `shape` could have this shape.
  bool IsCompatibleWith(const TensorShape& shape) const;
  bool IsCompatibleWith(const PartialShape& other) const;
  // "[?,1]", "<unknown>".
  std::string DebugString() const;
  bool operator==(const PartialShape& o) const {
    return unknown_rank_ == o.unknown_rank_ && dims_ == o.dims_;
  }

 private:
  bool unknown_rank_ = true;
  std::vector<int64_t> dims_;
};

// One node. Owned by its Graph; the address is stable for the Graph's life.
struct Node {
  int id = 0;  // index in Graph::nodes(), in order of addition
  ::tensorflow::NodeDef def;
  const ::tensorflow::OpDef* op_def = nullptr;
  NodeSignature signature;
  // Static shape of each output, as far as known (unknown for imported nodes
  // unless the builder or an "_output_shapes" attr said).
  std::vector<PartialShape> output_shapes;

  const std::string& name() const { return def.name(); }
  const std::string& op() const { return def.op(); }
  int num_outputs() const { return static_cast<int>(signature.output_types.size()); }
};

// The value dtype of a reference dtype (DT_FLOAT_REF -> DT_FLOAT); others unchanged.
DType BaseType(DType t);

// An output of a node: "name:index". A default-constructed Output is invalid
// (what a builder returns after an error; see Scope::status()).
class Output {
 public:
  Output() = default;
  Output(Node* node, int index = 0) : node_(node), index_(index) {}  // NOLINT
  Node* node() const { return node_; }
  int index() const { return index_; }
  bool valid() const { return node_ != nullptr; }
  DType dtype() const;                 // the dtype, refs resolved to the value dtype
  bool is_ref() const;
  const PartialShape& shape() const;   // static shape
  std::string name() const;            // "node:index"

 private:
  Node* node_ = nullptr;
  int index_ = 0;
};

// A node used for its effect (a target of Session::Run, a control input).
class Operation {
 public:
  Operation() = default;
  Operation(Node* node) : node_(node) {}  // NOLINT
  Operation(const Output& output) : node_(output.node()) {}  // NOLINT
  Node* node() const { return node_; }
  bool valid() const { return node_ != nullptr; }
  const std::string& name() const;

 private:
  Node* node_ = nullptr;
};

// "x" -> ("x", 0), "x:1" -> ("x", 1), "^x" -> ("x", -1).
struct TensorId {
  std::string node;
  int index = 0;
};
absl::StatusOr<TensorId> ParseTensorName(absl::string_view name);

class Graph {
 public:
  // `registry` defaults to OpRegistry::Global() and must outlive the graph.
  explicit Graph(const OpRegistry* registry = nullptr);
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  // Imports a GraphDef: for each node, the op must be known (NotFound naming
  // op and node otherwise), missing attrs are filled from the OpDef's
  // defaults, and the node is validated. Inputs may refer to nodes later in
  // the GraphDef; every input must exist. Producer versions before 22 had
  // Placeholder shape [] mean "unknown"; such attrs are read that way.
  static absl::StatusOr<std::unique_ptr<Graph>> FromGraphDef(
      const ::tensorflow::GraphDef& def, const OpRegistry* registry = nullptr);

  // Adds a node (defaults filled, validated, inputs must already exist).
  // The name must be unused (AlreadyExists otherwise).
  absl::StatusOr<Node*> AddNode(::tensorflow::NodeDef def);

  Node* FindNode(absl::string_view name) const;
  absl::StatusOr<Output> FindOutput(absl::string_view tensor_name) const;
  absl::StatusOr<Operation> FindOperation(absl::string_view name) const;
  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  // Increases with every node added; sessions use it to see the graph grew.
  uint64_t version() const { return nodes_.size(); }

  // A name not used yet, made TensorFlow's way: "add", then "add_1",
  // "add_2", ... (compared case-insensitively); the name is reserved.
  std::string UniqueName(absl::string_view base);
  bool IsNameUsed(absl::string_view name) const;

  // The GraphDef: nodes in order of addition, versions {producer, min_consumer}.
  ::tensorflow::GraphDef ToGraphDef() const;
  const ::tensorflow::VersionDef& versions() const { return versions_; }
  void set_versions(const ::tensorflow::VersionDef& v) { versions_ = v; }

  // Variables, in order of creation (the "variables" collection); trainable
  // ones are also in trainable_variables().
  void AddVariable(const ::tensorflow::VariableDef& var, bool trainable);
  const std::vector<::tensorflow::VariableDef>& variables() const { return variables_; }
  std::vector<::tensorflow::VariableDef> trainable_variables() const;

  // Named collections of node names ("train_op", ...), exported as
  // node_list CollectionDefs.
  void AddToCollection(const std::string& collection, const std::string& node_name);
  const std::map<std::string, std::vector<std::string>>& collections() const {
    return collections_;
  }

  const OpRegistry& registry() const { return *registry_; }

  // The graph-level random seed (tf.set_random_seed); 0 = none. Random op
  // builders turn it and their op seed into the node's seed/seed2 attrs the
  // way TensorFlow does, so kernels need only those.
  void set_seed(int64_t seed) { seed_ = seed; }
  int64_t seed() const { return seed_; }
  // The next op-level seed for a random op built without one (TensorFlow
  // uses the graph's last node id).
  int64_t NextOpSeed() { return static_cast<int64_t>(nodes_.size()); }

 private:
  absl::StatusOr<Node*> AddNodeUnchecked(::tensorflow::NodeDef def, bool check_inputs);
  absl::Status Finalize(Node* node);

  const OpRegistry* registry_;
  int64_t seed_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  absl::flat_hash_map<std::string, Node*> by_name_;
  absl::flat_hash_map<std::string, int> name_counts_;  // lower-cased name -> uses
  ::tensorflow::VersionDef versions_;
  std::vector<::tensorflow::VariableDef> variables_;
  std::vector<bool> trainable_;
  std::map<std::string, std::vector<std::string>> collections_;
};

// The GraphDef producer version ckpt writes: graphs it exports use only ops
// and attrs that TensorFlow versions reading that producer understand.
constexpr int kGraphDefProducer = 27;
constexpr int kGraphDefMinConsumer = 0;

}  // namespace ckpt

#endif  // CKPT_RUNTIME_GRAPH_H_
