// ckpt/runtime/op_registry.h — the operations ckpt knows, as TensorFlow
// OpDefs: names, input and output arguments, attributes with their types,
// allowed values and defaults. A graph node is checked against its OpDef when
// it is built or imported, and attributes it leaves out are filled from the
// defaults, as TensorFlow does.
//
// OpDefs are written with TensorFlow's compact spec strings:
//
//   ckpt::OpRegistry registry;   // for a Graph(&registry); Global() is fixed
//   CKPT_RETURN_IF_ERROR(registry.Register(ckpt::OpDefBuilder("MatMul")
//       .Input("a: T")
//       .Input("b: T")
//       .Output("product: T")
//       .Attr("transpose_a: bool = false")
//       .Attr("transpose_b: bool = false")
//       .Attr("T: {half, float, double, int32, int64, complex64, complex128}")));
//   const tensorflow::OpDef* def = ckpt::OpRegistry::Global().Find("MatMul");
//
// Argument specs ("name: <type>"): a fixed dtype ("float", "string", ...), a
// type attribute ("T"), a number attribute times a type ("N * T"), or a
// list(type) attribute ("Tlist"); "Ref(...)" around any of them makes the
// argument a reference (a mutable variable, as VariableV2 outputs).
// Attr specs ("name: <type> [= <default>]"): string, int, float, bool, type,
// shape, tensor, func, or list(...) of one of them; "{float, int32}" restricts
// a type attr to those dtypes and "{'SAME', 'VALID'}" a string attr to those
// values; "int >= 1" sets a minimum. Defaults are written as in TensorFlow:
// "= false", "= 0", "= 1e-05", "= DT_FLOAT", "= 'abc'", "= []", "= { unknown_rank: true }"
// (a shape in text form), "= [1, 2]".
//
// Thread safety: OpRegistry::Global() is built once, on first use, and is
// read-only afterwards; reading it from many threads is safe.
#ifndef CKPT_RUNTIME_OP_REGISTRY_H_
#define CKPT_RUNTIME_OP_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/dtype.h"
#include "node_def.pb.h"
#include "op_def.pb.h"

namespace ckpt {

class OpDefBuilder {
 public:
  explicit OpDefBuilder(std::string op_name);

  OpDefBuilder& Input(std::string spec);
  OpDefBuilder& Output(std::string spec);
  OpDefBuilder& Attr(std::string spec);
  OpDefBuilder& SetIsStateful();
  OpDefBuilder& SetIsCommutative();
  OpDefBuilder& SetIsAggregate();
  OpDefBuilder& SetAllowsUninitializedInput();
  // Marks the op deprecated since GraphDef version `version`.
  OpDefBuilder& Deprecated(int version, std::string explanation);

  // Parses the specs. InvalidArgument naming the op and the spec on error.
  absl::StatusOr<::tensorflow::OpDef> Build() const;

 private:
  std::string name_;
  std::vector<std::string> inputs_, outputs_, attrs_;
  bool stateful_ = false, commutative_ = false, aggregate_ = false,
       allows_uninitialized_input_ = false;
  int deprecated_version_ = 0;
  std::string deprecated_explanation_;
};

class OpRegistry {
 public:
  OpRegistry() = default;
  OpRegistry(const OpRegistry&) = delete;
  OpRegistry& operator=(const OpRegistry&) = delete;

  // Every op ckpt defines (those it can run and those it only recognizes in
  // imported graphs).
  static const OpRegistry& Global();

  // AlreadyExists if an op of that name is registered; the builder's error
  // otherwise.
  absl::Status Register(const OpDefBuilder& builder);
  absl::Status Register(::tensorflow::OpDef op_def);

  // nullptr when unknown.
  const ::tensorflow::OpDef* Find(absl::string_view op) const;
  // NotFound "unknown op 'Foo' in node 'bar'" when unknown.
  absl::StatusOr<const ::tensorflow::OpDef*> Lookup(absl::string_view op,
                                                    absl::string_view node_name = "") const;
  std::vector<std::string> ListOps() const;  // sorted

 private:
  std::map<std::string, ::tensorflow::OpDef, std::less<>> ops_;
};

// What an OpDef says about one node: the dtype of each input and output, and
// which of them are references.
struct NodeSignature {
  std::vector<DType> input_types;
  std::vector<bool> input_is_ref;
  std::vector<DType> output_types;
  std::vector<bool> output_is_ref;
};

// Adds to `node` every attr of `op_def` that has a default and is missing.
void AddDefaultAttrs(const ::tensorflow::OpDef& op_def, ::tensorflow::NodeDef* node);

// Checks `node` (defaults already added) against `op_def`: every attr the op
// declares is present with the declared type, allowed value and minimum; no
// attr the op does not declare (except those starting with '_'); the number
// of data inputs (control inputs "^x" excluded) matches the arguments. On
// success returns the node's input and output dtypes. InvalidArgument naming
// the node, the op and what is wrong.
absl::StatusOr<NodeSignature> ValidateNode(const ::tensorflow::OpDef& op_def,
                                           const ::tensorflow::NodeDef& node);

}  // namespace ckpt

#endif  // CKPT_RUNTIME_OP_REGISTRY_H_
