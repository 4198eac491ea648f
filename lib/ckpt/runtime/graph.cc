#include "ckpt/runtime/graph.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/status_macros.h"

namespace ckpt {

// ---- PartialShape -----------------------------------------------------------

PartialShape::PartialShape(std::initializer_list<int64_t> dims)
    : unknown_rank_(false), dims_(dims) {}
PartialShape::PartialShape(std::vector<int64_t> dims)
    : unknown_rank_(false), dims_(std::move(dims)) {}
PartialShape::PartialShape(const TensorShape& shape)
    : unknown_rank_(false), dims_(shape.dims()) {}

absl::StatusOr<PartialShape> PartialShape::FromProto(
    const ::tensorflow::TensorShapeProto& proto) {
  if (proto.unknown_rank()) return PartialShape();
  std::vector<int64_t> dims;
  dims.reserve(proto.dim_size());
  for (const auto& d : proto.dim()) {
    if (d.size() < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape has a dimension of ", d.size()));
    }
    dims.push_back(d.size());
  }
  return PartialShape(std::move(dims));
}

void PartialShape::ToProto(::tensorflow::TensorShapeProto* proto) const {
  proto->Clear();
  if (unknown_rank_) {
    proto->set_unknown_rank(true);
    return;
  }
  for (int64_t d : dims_) proto->add_dim()->set_size(d);
}

bool PartialShape::IsFullyDefined() const {
  if (unknown_rank_) return false;
  return std::all_of(dims_.begin(), dims_.end(), [](int64_t d) { return d >= 0; });
}

TensorShape PartialShape::ToShape() const {
  auto s = TensorShape::FromDims(dims_);
  return s.ok() ? *s : TensorShape();
}

bool PartialShape::IsCompatibleWith(const TensorShape& shape) const {
  if (unknown_rank_) return true;
  if (static_cast<int>(dims_.size()) != shape.rank()) return false;
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i] >= 0 && dims_[i] != shape.dim(static_cast<int>(i))) return false;
  }
  return true;
}

bool PartialShape::IsCompatibleWith(const PartialShape& other) const {
  if (unknown_rank_ || other.unknown_rank_) return true;
  if (dims_.size() != other.dims_.size()) return false;
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (dims_[i] >= 0 && other.dims_[i] >= 0 && dims_[i] != other.dims_[i]) return false;
  }
  return true;
}

std::string PartialShape::DebugString() const {
  if (unknown_rank_) return "<unknown>";
  return absl::StrCat("[",
                      absl::StrJoin(dims_, ",",
                                    [](std::string* out, int64_t d) {
                                      absl::StrAppend(out, d < 0 ? "?" : absl::StrCat(d));
                                    }),
                      "]");
}

// ---- Output / Operation -------------------------------------------------------

DType BaseType(DType t) {
  const int v = static_cast<int>(t);
  return v > 100 ? static_cast<DType>(v - 100) : t;  // DT_*_REF = DT_* + 100
}

DType Output::dtype() const {
  if (node_ == nullptr || index_ >= node_->num_outputs()) return DT_INVALID;
  return BaseType(node_->signature.output_types[index_]);
}

bool Output::is_ref() const {
  return node_ != nullptr && index_ < node_->num_outputs() &&
         node_->signature.output_is_ref[index_];
}

const PartialShape& Output::shape() const {
  static const PartialShape* const kUnknown = new PartialShape();
  if (node_ == nullptr || index_ >= static_cast<int>(node_->output_shapes.size())) {
    return *kUnknown;
  }
  return node_->output_shapes[index_];
}

std::string Output::name() const {
  if (node_ == nullptr) return "<invalid>";
  return absl::StrCat(node_->name(), ":", index_);
}

const std::string& Operation::name() const {
  static const std::string* const kInvalid = new std::string("<invalid>");
  return node_ == nullptr ? *kInvalid : node_->name();
}

absl::StatusOr<TensorId> ParseTensorName(absl::string_view name) {
  TensorId id;
  if (!name.empty() && name[0] == '^') {
    id.node = std::string(name.substr(1));
    id.index = -1;
  } else {
    size_t colon = name.rfind(':');
    int index = 0;
    if (colon != absl::string_view::npos &&
        absl::SimpleAtoi(name.substr(colon + 1), &index) && index >= 0) {
      id.node = std::string(name.substr(0, colon));
      id.index = index;
    } else {
      id.node = std::string(name);
    }
  }
  if (id.node.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid tensor name '", name, "'"));
  }
  return id;
}

// ---- Graph ----------------------------------------------------------------------

Graph::Graph(const OpRegistry* registry)
    : registry_(registry != nullptr ? registry : &OpRegistry::Global()) {
  versions_.set_producer(kGraphDefProducer);
  versions_.set_min_consumer(kGraphDefMinConsumer);
}

Graph::~Graph() = default;

Node* Graph::FindNode(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<Output> Graph::FindOutput(absl::string_view tensor_name) const {
  CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(tensor_name));
  if (id.index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", tensor_name, "' names a control input, not a tensor"));
  }
  Node* node = FindNode(id.node);
  if (node == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("tensor '", tensor_name, "': no node '", id.node, "' in the graph"));
  }
  if (id.index >= node->num_outputs()) {
    return absl::NotFoundError(absl::StrCat("tensor '", tensor_name, "': node '", id.node,
                                            "' (op ", node->op(), ") has ",
                                            node->num_outputs(), " output(s)"));
  }
  return Output(node, id.index);
}

absl::StatusOr<Operation> Graph::FindOperation(absl::string_view name) const {
  absl::string_view n = name;
  if (!n.empty() && n[0] == '^') n.remove_prefix(1);
  Node* node = FindNode(n);
  if (node == nullptr) {
    return absl::NotFoundError(absl::StrCat("no operation '", name, "' in the graph"));
  }
  return Operation(node);
}

bool Graph::IsNameUsed(absl::string_view name) const {
  return by_name_.contains(name) || name_counts_.contains(absl::AsciiStrToLower(name));
}

std::string Graph::UniqueName(absl::string_view base) {
  // TensorFlow's Python rule: names are compared lower-cased; each base name
  // counts its uses, and the n-th use becomes "<base>_<n>" (skipping
  // suffixed names already taken, which are then marked as used too).
  std::string key = absl::AsciiStrToLower(base);
  int i = name_counts_[key]++;
  if (i == 0) return std::string(base);
  const std::string base_key = key;
  while (name_counts_.contains(key)) {
    key = absl::StrCat(base_key, "_", i);
    ++i;
  }
  name_counts_[key] = 1;
  return absl::StrCat(base, "_", i - 1);
}

absl::Status Graph::Finalize(Node* node) {
  CKPT_ASSIGN_OR_RETURN(node->op_def, registry_->Lookup(node->op(), node->name()));
  AddDefaultAttrs(*node->op_def, &node->def);
  CKPT_ASSIGN_OR_RETURN(node->signature, ValidateNode(*node->op_def, node->def));
  if (node->output_shapes.size() != node->signature.output_types.size()) {
    node->output_shapes.resize(node->signature.output_types.size());
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> Graph::AddNodeUnchecked(::tensorflow::NodeDef def, bool check_inputs) {
  if (def.name().empty()) return absl::InvalidArgumentError("a node needs a name");
  if (by_name_.contains(def.name())) {
    return absl::AlreadyExistsError(
        absl::StrCat("a node named '", def.name(), "' is already in the graph"));
  }
  auto node = std::make_unique<Node>();
  node->id = static_cast<int>(nodes_.size());
  node->def = std::move(def);
  CKPT_RETURN_IF_ERROR(Finalize(node.get()));
  if (check_inputs) {
    for (const std::string& in : node->def.input()) {
      CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(in));
      Node* src = FindNode(id.node);
      if (src == nullptr || (id.index >= 0 && id.index >= src->num_outputs())) {
        return absl::InvalidArgumentError(absl::StrCat("node '", node->name(), "' (op ",
                                                       node->op(), "): input '", in,
                                                       "' is not in the graph"));
      }
    }
  }
  Node* raw = node.get();
  by_name_[raw->name()] = raw;
  int& uses = name_counts_[absl::AsciiStrToLower(raw->name())];
  uses = std::max(uses, 1);
  nodes_.push_back(std::move(node));
  return raw;
}

absl::StatusOr<Node*> Graph::AddNode(::tensorflow::NodeDef def) {
  return AddNodeUnchecked(std::move(def), /*check_inputs=*/true);
}

absl::StatusOr<std::unique_ptr<Graph>> Graph::FromGraphDef(const ::tensorflow::GraphDef& def,
                                                          const OpRegistry* registry) {
  auto graph = std::make_unique<Graph>(registry);
  if (def.has_versions()) graph->versions_ = def.versions();
  const bool old_placeholder_shapes = def.versions().producer() < 22;
  for (const auto& nd : def.node()) {
    ::tensorflow::NodeDef copy = nd;
    if (old_placeholder_shapes && (copy.op() == "Placeholder" || copy.op() == "PlaceholderV2")) {
      // Producers before 22 wrote an unknown placeholder shape as [].
      auto it = copy.mutable_attr()->find("shape");
      if (it != copy.mutable_attr()->end() && it->second.has_shape() &&
          it->second.shape().dim_size() == 0 && !it->second.shape().unknown_rank()) {
        it->second.mutable_shape()->set_unknown_rank(true);
      }
    }
    CKPT_ASSIGN_OR_RETURN(Node * node, graph->AddNodeUnchecked(std::move(copy), false));
    // Static shapes a graph recorded for itself.
    auto shapes = node->def.attr().find("_output_shapes");
    if (shapes != node->def.attr().end() &&
        shapes->second.list().shape_size() == node->num_outputs()) {
      for (int i = 0; i < node->num_outputs(); ++i) {
        auto ps = PartialShape::FromProto(shapes->second.list().shape(i));
        if (ps.ok()) node->output_shapes[i] = *ps;
      }
    }
    if (node->op() == "Placeholder" || node->op() == "PlaceholderWithDefault") {
      auto shape = node->def.attr().find("shape");
      if (shape != node->def.attr().end()) {
        // An unknown declared shape does not override a recorded one (old
        // producers declared [] but recorded the real [?,784]).
        auto ps = PartialShape::FromProto(shape->second.shape());
        if (ps.ok() && !ps->unknown_rank()) node->output_shapes[0] = *ps;
      }
    }
  }
  for (const auto& node : graph->nodes_) {
    for (const std::string& in : node->def.input()) {
      CKPT_ASSIGN_OR_RETURN(TensorId id, ParseTensorName(in));
      Node* src = graph->FindNode(id.node);
      if (src == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("node '", node->name(), "' (op ",
                                                       node->op(), ") has input '", in,
                                                       "', which is not in the graph"));
      }
      if (id.index >= src->num_outputs()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node '", node->name(), "' (op ", node->op(), ") has input '", in, "', but '",
            src->name(), "' has ", src->num_outputs(), " output(s)"));
      }
    }
  }
  return graph;
}

::tensorflow::GraphDef Graph::ToGraphDef() const {
  ::tensorflow::GraphDef def;
  for (const auto& node : nodes_) *def.add_node() = node->def;
  *def.mutable_versions() = versions_;
  return def;
}

void Graph::AddVariable(const ::tensorflow::VariableDef& var, bool trainable) {
  variables_.push_back(var);
  trainable_.push_back(trainable);
}

std::vector<::tensorflow::VariableDef> Graph::trainable_variables() const {
  std::vector<::tensorflow::VariableDef> out;
  for (size_t i = 0; i < variables_.size(); ++i) {
    if (trainable_[i]) out.push_back(variables_[i]);
  }
  return out;
}

void Graph::AddToCollection(const std::string& collection, const std::string& node_name) {
  collections_[collection].push_back(node_name);
}

}  // namespace ckpt
