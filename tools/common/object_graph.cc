#include "common/object_graph.h"

#include <functional>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/format.h"
#include "trackable_object_graph.pb.h"

namespace ckpt {
namespace tools {

using Graph = ::tensorflow::TrackableObjectGraph;

absl::StatusOr<ObjectGraphReport> DescribeObjectGraph(const BundleReader& reader) {
  if (!reader.Contains(kObjectGraphKey)) {
    return absl::NotFoundError(absl::StrCat(
        reader.prefix(), " has no ", kObjectGraphKey,
        " tensor: it is a name-based (TF1-style) checkpoint without an object graph"));
  }
  absl::StatusOr<Tensor> t = reader.Read(kObjectGraphKey);
  if (!t.ok()) return t.status();
  Graph graph;
  if (t->dtype() != DT_STRING || t->strings().size() != 1 ||
      !graph.ParseFromString(t->strings()[0])) {
    return absl::DataLossError(absl::StrCat(reader.prefix(), ": ", kObjectGraphKey,
                                            " is not a serialized TrackableObjectGraph"));
  }
  const int n = graph.nodes_size();
  // Slots live under the optimizer but describe a variable: index them by
  // the variable's node so each shows beside it.
  std::map<int, std::vector<std::pair<std::string, int>>> slots_of;
  for (const auto& node : graph.nodes()) {
    for (const auto& s : node.slot_variables()) {
      slots_of[s.original_variable_node_id()].emplace_back(s.slot_name(), s.slot_variable_node_id());
    }
  }
  auto describe_tensor = [&](const std::string& key) -> std::string {
    absl::StatusOr<BundleEntryInfo> e = reader.GetEntry(key);
    if (!e.ok()) return "  (not in checkpoint)";
    return absl::StrCat("  ", DTypeName(e->dtype), e->shape.DebugString());
  };

  ObjectGraphReport r;
  r.json["num_nodes"] = n;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (int id = 0; id < n; ++id) {
    const auto& node = graph.nodes(id);
    nlohmann::ordered_json j;
    j["id"] = id;
    nlohmann::ordered_json children = nlohmann::ordered_json::array();
    for (const auto& c : node.children()) {
      children.push_back({{"name", c.local_name()}, {"node", c.node_id()}});
    }
    j["children"] = children;
    nlohmann::ordered_json attrs = nlohmann::ordered_json::array();
    for (const auto& a : node.attributes()) {
      attrs.push_back({{"name", a.name()}, {"full_name", a.full_name()},
                       {"checkpoint_key", a.checkpoint_key()}});
    }
    j["attributes"] = attrs;
    nlohmann::ordered_json slots = nlohmann::ordered_json::array();
    for (const auto& s : node.slot_variables()) {
      slots.push_back({{"variable_node", s.original_variable_node_id()},
                       {"slot_name", s.slot_name()},
                       {"slot_node", s.slot_variable_node_id()}});
    }
    if (!slots.empty()) j["slot_variables"] = slots;
    nodes.push_back(j);
  }
  r.json["nodes"] = nodes;

  std::vector<bool> shown(n, false);
  std::function<void(int, const std::string&, const std::string&, bool, int)> walk;
  walk = [&](int id, const std::string& label, const std::string& indent, bool last, int depth) {
    const std::string branch = depth == 0 ? "" : (last ? "└── " : "├── ");
    if (id < 0 || id >= n) {
      absl::StrAppend(&r.text, indent, branch, DisplayName(label), "  (bad node id ", id, ")\n");
      return;
    }
    if (shown[id]) {
      absl::StrAppend(&r.text, indent, branch, DisplayName(label), "  (node ", id, ", shown above)\n");
      return;
    }
    shown[id] = true;
    const auto& node = graph.nodes(id);
    absl::StrAppend(&r.text, indent, branch, DisplayName(label), "  (node ", id, ")\n");
    const std::string child_indent = depth == 0 ? "" : indent + (last ? "    " : "│   ");
    std::vector<std::string> leaves;
    for (const auto& a : node.attributes()) {
      leaves.push_back(absl::StrCat("[", DisplayName(a.name()), "] ", DisplayName(a.checkpoint_key()), describe_tensor(a.checkpoint_key())));
    }
    for (const auto& [slot, slot_node] : slots_of[id]) {
      std::string key;
      if (slot_node >= 0 && slot_node < n) {
        shown[slot_node] = true;  // a slot is shown beside its variable
        if (graph.nodes(slot_node).attributes_size() > 0) {
          key = graph.nodes(slot_node).attributes(0).checkpoint_key();
        }
      }
      leaves.push_back(absl::StrCat("slot '", slot, "': ", key.empty() ? "(no tensor)" : key + describe_tensor(key)));
    }
    const int kids = node.children_size();
    for (size_t i = 0; i < leaves.size(); ++i) {
      bool final_item = kids == 0 && i + 1 == leaves.size();
      absl::StrAppend(&r.text, child_indent, final_item ? "└── " : "├── ", leaves[i], "\n");
    }
    for (int i = 0; i < kids; ++i) {
      walk(node.children(i).node_id(), node.children(i).local_name(), child_indent, i + 1 == kids, depth + 1);
    }
  };
  if (n > 0) walk(0, "(root)", "", true, 0);
  int unreachable = 0;
  for (int id = 0; id < n; ++id) unreachable += shown[id] ? 0 : 1;
  if (unreachable > 0) absl::StrAppend(&r.text, "(", unreachable, " nodes not reachable from the root)\n");
  return r;
}

}  // namespace tools
}  // namespace ckpt
