// OpDefs of TensorFlow's array ops (core/ops/array_ops.cc), as the newest
// TensorFlow registers them.
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

namespace {
// Index dtypes most shape-like inputs take, int32 unless the node says.
constexpr char kIndexTypeInt32Default[] = "{int32, int64} = DT_INT32";
}  // namespace

void RegisterArrayOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  def(OpDefBuilder("Const").Output("output: dtype").Attr("value: tensor").Attr("dtype: type"));
  def(OpDefBuilder("Placeholder")
          .Output("output: dtype")
          .Attr("dtype: type")
          .Attr("shape: shape = { unknown_rank: true }"));
  def(OpDefBuilder("PlaceholderWithDefault")
          .Input("input: dtype")
          .Output("output: dtype")
          .Attr("dtype: type")
          .Attr("shape: shape"));
  def(OpDefBuilder("Identity").Input("input: T").Output("output: T").Attr("T: type"));
  def(OpDefBuilder("StopGradient").Input("input: T").Output("output: T").Attr("T: type"));
  for (const char* op : {"Shape", "Size"}) {
    def(OpDefBuilder(op)
            .Input("input: T")
            .Output("output: out_type")
            .Attr("T: type")
            .Attr(std::string("out_type: ") + kIndexTypeInt32Default));
  }
  def(OpDefBuilder("Rank").Input("input: T").Output("output: int32").Attr("T: type"));
  def(OpDefBuilder("Reshape")
          .Input("tensor: T")
          .Input("shape: Tshape")
          .Output("output: T")
          .Attr("T: type")
          .Attr(std::string("Tshape: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("Fill")
          .Input("dims: index_type")
          .Input("value: T")
          .Output("output: T")
          .Attr("T: type")
          .Attr(std::string("index_type: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("ZerosLike").Input("x: T").Output("y: T").Attr("T: type"));
  def(OpDefBuilder("OnesLike")
          .Input("x: T")
          .Output("y: T")
          .Attr("T: {bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, "
                "int64, uint64, complex64, complex128, bool}"));
  def(OpDefBuilder("Tile")
          .Input("input: T")
          .Input("multiples: Tmultiples")
          .Output("output: T")
          .Attr("T: type")
          .Attr(std::string("Tmultiples: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("ConcatV2")
          .Input("values: N * T")
          .Input("axis: Tidx")
          .Output("output: T")
          .Attr("N: int >= 2")
          .Attr("T: type")
          .Attr(std::string("Tidx: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("Concat")
          .Input("concat_dim: int32")
          .Input("values: N * T")
          .Output("output: T")
          .Attr("N: int >= 2")
          .Attr("T: type"));
  def(OpDefBuilder("Pack")
          .Input("values: N * T")
          .Output("output: T")
          .Attr("N: int >= 1")
          .Attr("T: type")
          .Attr("axis: int = 0"));
  def(OpDefBuilder("Unpack")
          .Input("value: T")
          .Output("output: num * T")
          .Attr("num: int >= 0")
          .Attr("T: type")
          .Attr("axis: int = 0"));
  def(OpDefBuilder("Slice")
          .Input("input: T")
          .Input("begin: Index")
          .Input("size: Index")
          .Output("output: T")
          .Attr("T: type")
          .Attr("Index: {int32, int64}"));
  def(OpDefBuilder("StridedSlice")
          .Input("input: T")
          .Input("begin: Index")
          .Input("end: Index")
          .Input("strides: Index")
          .Output("output: T")
          .Attr("T: type")
          .Attr("Index: {int32, int64}")
          .Attr("begin_mask: int = 0")
          .Attr("end_mask: int = 0")
          .Attr("ellipsis_mask: int = 0")
          .Attr("new_axis_mask: int = 0")
          .Attr("shrink_axis_mask: int = 0"));
  def(OpDefBuilder("ExpandDims")
          .Input("input: T")
          .Input("dim: Tdim")
          .Output("output: T")
          .Attr("T: type")
          .Attr(std::string("Tdim: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("Squeeze")
          .Input("input: T")
          .Output("output: T")
          .Attr("T: type")
          .Attr("squeeze_dims: list(int) >= 0 = []"));
  def(OpDefBuilder("Transpose")
          .Input("x: T")
          .Input("perm: Tperm")
          .Output("y: T")
          .Attr("T: type")
          .Attr(std::string("Tperm: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("BroadcastGradientArgs")
          .Input("s0: T")
          .Input("s1: T")
          .Output("r0: T")
          .Output("r1: T")
          .Attr(std::string("T: ") + kIndexTypeInt32Default));
  def(OpDefBuilder("Gather")
          .Input("params: Tparams")
          .Input("indices: Tindices")
          .Output("output: Tparams")
          .Attr("validate_indices: bool = true")
          .Attr("Tparams: type")
          .Attr("Tindices: {int32, int64}"));
  def(OpDefBuilder("GatherV2")
          .Input("params: Tparams")
          .Input("indices: Tindices")
          .Input("axis: Taxis")
          .Output("output: Tparams")
          .Attr("batch_dims: int = 0")
          .Attr("Tparams: type")
          .Attr("Tindices: {int16, int32, int64}")
          .Attr("Taxis: {int32, int64}"));
  def(OpDefBuilder("OneHot")
          .Input("indices: TI")
          .Input("depth: int32")
          .Input("on_value: T")
          .Input("off_value: T")
          .Output("output: T")
          .Attr("axis: int = -1")
          .Attr("T: type")
          .Attr("TI: {uint8, int32, int64} = DT_INT64"));
}

}  // namespace runtime
}  // namespace ckpt
