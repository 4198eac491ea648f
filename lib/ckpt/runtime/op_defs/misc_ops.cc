// OpDefs of the remaining ops ckpt knows: NoOp (core/ops/no_op.cc),
// StringJoin (string_ops.cc) and the Example parsers of serving graphs
// (parsing_ops.cc).
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

namespace {
constexpr char kFeatureTypes[] = "{float, int64, string}";
}  // namespace

void RegisterMiscOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  def(OpDefBuilder("NoOp"));
  def(OpDefBuilder("StringJoin")
          .Input("inputs: N * string")
          .Output("output: string")
          .Attr("N: int >= 0")
          .Attr("separator: string = ''"));
  // The TF1 parser: the sparse and dense feature counts are attrs.
  def(OpDefBuilder("ParseExample")
          .Input("serialized: string")
          .Input("names: string")
          .Input("sparse_keys: Nsparse * string")
          .Input("dense_keys: Ndense * string")
          .Input("dense_defaults: Tdense")
          .Output("sparse_indices: Nsparse * int64")
          .Output("sparse_values: sparse_types")
          .Output("sparse_shapes: Nsparse * int64")
          .Output("dense_values: Tdense")
          .Attr("Nsparse: int >= 0")
          .Attr("Ndense: int >= 0")
          .Attr(std::string("sparse_types: list(") + kFeatureTypes + ") >= 0")
          .Attr(std::string("Tdense: list(") + kFeatureTypes + ") >= 0")
          .Attr("dense_shapes: list(shape) >= 0"));
  // TF2's parser takes the keys as tensors and adds ragged features.
  def(OpDefBuilder("ParseExampleV2")
          .Input("serialized: string")
          .Input("names: string")
          .Input("sparse_keys: string")
          .Input("dense_keys: string")
          .Input("ragged_keys: string")
          .Input("dense_defaults: Tdense")
          .Output("sparse_indices: num_sparse * int64")
          .Output("sparse_values: sparse_types")
          .Output("sparse_shapes: num_sparse * int64")
          .Output("dense_values: Tdense")
          .Output("ragged_values: ragged_value_types")
          .Output("ragged_row_splits: ragged_split_types")
          .Attr(std::string("Tdense: list(") + kFeatureTypes + ") >= 0")
          .Attr("num_sparse: int >= 0")
          .Attr(std::string("sparse_types: list(") + kFeatureTypes + ") >= 0")
          .Attr(std::string("ragged_value_types: list(") + kFeatureTypes + ") >= 0")
          .Attr("ragged_split_types: list({int32, int64}) >= 0")
          .Attr("dense_shapes: list(shape) >= 0"));
}

}  // namespace runtime
}  // namespace ckpt
