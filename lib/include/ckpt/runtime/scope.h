// ckpt/runtime/scope.h — where new nodes go and what they are called.
//
// A Scope carries a graph, a name scope ("layer1/", "gradients/"), control
// dependencies for new nodes, and a shared error status. Builders in ops.h
// take a Scope first, like TensorFlow's C++ API, and record the first error
// in it instead of returning a status each, so model code reads like the
// Python it mirrors:
//
//   ckpt::Scope root = ckpt::Scope::NewRootScope(&graph);
//   ckpt::Scope layer = root.NewSubScope("layer1");       // "layer1/..."
//   ckpt::Var w = ckpt::ops::Variable(layer, ckpt::ops::RandomNormal(layer, {1, 10}));
//   // "layer1/Variable", "layer1/random_normal/...", ...
//   if (!root.ok()) return root.status();                 // first error
//
// Default node names follow TensorFlow: an op's name is its type in
// lowerCamel/Python spelling ("MatMul", "add", "Variable") made unique in the
// graph ("add_1"); a sub-scope's name is made unique the same way
// ("gradients", "gradients_1").
//
// Scopes are cheap values; copies share the graph and the status.
#ifndef CKPT_RUNTIME_SCOPE_H_
#define CKPT_RUNTIME_SCOPE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ckpt/runtime/graph.h"

namespace ckpt {

class Scope {
 public:
  static Scope NewRootScope(Graph* graph);

  // A scope nested in this one, named `name` made unique ("name", "name_1").
  Scope NewSubScope(absl::string_view name) const;
  // The next node built gets exactly this name within the scope (made
  // unique if taken, as TensorFlow does).
  Scope WithOpName(absl::string_view name) const;
  // New nodes get control inputs on these operations (added to any the
  // scope already has).
  Scope WithControlDependencies(const std::vector<Operation>& ops) const;
  Scope WithNoControlDependencies() const;

  Graph* graph() const { return graph_; }
  // "layer1/" or "" at the root.
  const std::string& name_prefix() const { return prefix_; }
  const std::vector<Operation>& control_deps() const { return control_deps_; }

  // The name a node built here gets, given its default name (the op's
  // default, e.g. "MatMul"): the WithOpName name if set, else the default,
  // within the name scope and unique in the graph. Reserves it.
  std::string GetUniqueNameForOp(absl::string_view default_name) const;

  bool ok() const { return status_->ok(); }
  const absl::Status& status() const { return *status_; }
  // Keeps the first error.
  void UpdateStatus(const absl::Status& s) const;

  // Adds a node of `op` named from `default_name`, with `inputs` (their
  // dtypes set type attrs the OpDef ties them to, e.g. "T"), `attrs`, and
  // the scope's control dependencies. Returns the node, or nullptr after
  // recording the error (also when any input is invalid, i.e. an earlier
  // error happened). `output_shapes`, if given, are the static output
  // shapes.
  Node* AddOp(absl::string_view op, absl::string_view default_name,
              const std::vector<Output>& inputs,
              std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
              std::vector<PartialShape> output_shapes = {}) const;
  // Same for ops with list inputs ("N * T" or a list(type) attr): `args`
  // has one entry per input argument of the OpDef, the Outputs it takes.
  Node* AddOpWithLists(absl::string_view op, absl::string_view default_name,
                       const std::vector<std::vector<Output>>& args,
                       std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                       std::vector<PartialShape> output_shapes = {}) const;
  // Same, but the node is named exactly `exact_name`: a full name (prefix
  // included) the caller already reserved with Graph::UniqueName, typically
  // through NewSubScope. TensorFlow names some nodes exactly as the name
  // scope it opened for them, with the scope's uniquifying suffix:
  //
  //   Scope vs = s.NewSubScope("Variable");        // reserves "Variable_1"
  //   std::string name = vs.name_prefix();         // "Variable_1/"
  //   name.pop_back();
  //   vs.AddOpNamed("VariableV2", name, {}, attrs, {shape});
  //   vs.AddOp("Assign", "Assign", ...);           // "Variable_1/Assign"
  //
  // WithOpName does not apply; the scope's control dependencies do. A name
  // already used by a node is AlreadyExists (recorded like every error).
  Node* AddOpNamed(absl::string_view op, const std::string& exact_name,
                   const std::vector<std::vector<Output>>& args,
                   std::vector<std::pair<std::string, ::tensorflow::AttrValue>> attrs,
                   std::vector<PartialShape> output_shapes = {}) const;

 private:
  Scope(Graph* graph, std::shared_ptr<absl::Status> status);

  Graph* graph_ = nullptr;
  std::string prefix_;
  std::string op_name_;  // from WithOpName
  std::vector<Operation> control_deps_;
  std::shared_ptr<absl::Status> status_;
};

// Attr value helpers for AddOp.
::tensorflow::AttrValue AttrType(DType t);
::tensorflow::AttrValue AttrInt(int64_t v);
::tensorflow::AttrValue AttrFloat(float v);
::tensorflow::AttrValue AttrBool(bool v);
::tensorflow::AttrValue AttrString(absl::string_view v);
::tensorflow::AttrValue AttrShape(const PartialShape& shape);
::tensorflow::AttrValue AttrIntList(const std::vector<int64_t>& v);
::tensorflow::AttrValue AttrTypeList(const std::vector<DType>& v);

}  // namespace ckpt

#endif  // CKPT_RUNTIME_SCOPE_H_
