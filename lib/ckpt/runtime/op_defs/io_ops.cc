// OpDefs of TensorFlow's checkpoint ops (core/ops/io_ops.cc): the V2 bundle
// ops a Saver builds today and the V1 ops of older graphs.
#include "ckpt/runtime/op_defs/register.h"

namespace ckpt {
namespace runtime {

void RegisterIoOps(OpRegistry* r) {
  auto def = [r](const OpDefBuilder& b) { DefineBuiltinOp(r, b); };
  def(OpDefBuilder("SaveV2")
          .Input("prefix: string")
          .Input("tensor_names: string")
          .Input("shape_and_slices: string")
          .Input("tensors: dtypes")
          .Attr("dtypes: list(type) >= 1")
          .SetIsStateful());
  def(OpDefBuilder("RestoreV2")
          .Input("prefix: string")
          .Input("tensor_names: string")
          .Input("shape_and_slices: string")
          .Output("tensors: dtypes")
          .Attr("dtypes: list(type) >= 1")
          .SetIsStateful());
  def(OpDefBuilder("MergeV2Checkpoints")
          .Input("checkpoint_prefixes: string")
          .Input("destination_prefix: string")
          .Attr("delete_old_dirs: bool = true")
          .Attr("allow_missing_files: bool = false")
          .SetIsStateful());
  def(OpDefBuilder("ShardedFilename")
          .Input("basename: string")
          .Input("shard: int32")
          .Input("num_shards: int32")
          .Output("filename: string"));
  def(OpDefBuilder("ShardedFilespec")
          .Input("basename: string")
          .Input("num_shards: int32")
          .Output("filename: string"));
  def(OpDefBuilder("Save")
          .Input("filename: string")
          .Input("tensor_names: string")
          .Input("data: T")
          .Attr("T: list(type) >= 1")
          .SetIsStateful());
  def(OpDefBuilder("SaveSlices")
          .Input("filename: string")
          .Input("tensor_names: string")
          .Input("shapes_and_slices: string")
          .Input("data: T")
          .Attr("T: list(type) >= 1")
          .SetIsStateful());
  def(OpDefBuilder("Restore")
          .Input("file_pattern: string")
          .Input("tensor_name: string")
          .Output("tensor: dt")
          .Attr("dt: type")
          .Attr("preferred_shard: int = -1")
          .SetIsStateful());
  def(OpDefBuilder("RestoreSlice")
          .Input("file_pattern: string")
          .Input("tensor_name: string")
          .Input("shape_and_slice: string")
          .Output("tensor: dt")
          .Attr("dt: type")
          .Attr("preferred_shard: int = -1")
          .SetIsStateful());
}

}  // namespace runtime
}  // namespace ckpt
