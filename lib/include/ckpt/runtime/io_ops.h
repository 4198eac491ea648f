// ckpt/runtime/io_ops.h — graph nodes that write and read checkpoints.
//
// The builders add the nodes TensorFlow's Python io_ops add, with the same
// op names, attrs and node names. A list argument given as plain strings
// becomes a Const inside the op's name scope, as Python converts it:
//
//   ckpt::Scope save = root.NewSubScope("save");
//   ckpt::Output prefix = ckpt::ops::Const(save, std::string("model"));   // "save/Const"
//   ckpt::Operation op =
//       ckpt::ops::SaveV2(save, prefix, {"b", "w"}, {"", ""}, {b.ref(), w.ref()});
//   // -> "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "save/SaveV2"
//
//   std::vector<ckpt::Output> t = ckpt::ops::RestoreV2(save, prefix, {"w"}, {""}, {ckpt::DT_FLOAT});
//   // -> "save/RestoreV2/tensor_names", ..., "save/RestoreV2" (output 0 is w's value)
//
// What the kernels do when these nodes run:
//   SaveV2(prefix, tensor_names, shape_and_slices, tensors...) writes one V2
//     bundle at `prefix` (files <prefix>.index and <prefix>.data-00000-of-00001,
//     written to temporaries and renamed into place). An empty
//     shape_and_slices entry saves the whole tensor; "d0 d1 ... slice" saves
//     the tensor as that slice of a partitioned tensor of shape [d0, d1, ...].
//   RestoreV2(prefix, tensor_names, shape_and_slices) reads the tensors back;
//     each must have the dtype of its entry in the "dtypes" attr.
//   MergeV2Checkpoints(checkpoint_prefixes, destination_prefix) merges
//     bundles written separately (a sharded save) into one.
//   The V1 ops (Save, SaveSlices, Restore, RestoreSlice) are recognized in
//   imported graphs but fail with Unimplemented when run.
// Errors name the checkpoint file and the tensor.
#ifndef CKPT_RUNTIME_IO_OPS_H_
#define CKPT_RUNTIME_IO_OPS_H_

#include <string>
#include <vector>

#include "ckpt/dtype.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/scope.h"

namespace ckpt {
namespace ops {

// io_ops.save_v2 with the names and slice specs as constants
// "<op>/tensor_names" and "<op>/shape_and_slices". The three lists must have
// the same length.
Operation SaveV2(const Scope& s, Output prefix, const std::vector<std::string>& tensor_names,
                 const std::vector<std::string>& shape_and_slices,
                 const std::vector<Output>& tensors);
// The same with the names and specs computed by the graph (1-D string tensors).
Operation SaveV2(const Scope& s, Output prefix, Output tensor_names, Output shape_and_slices,
                 const std::vector<Output>& tensors);

// io_ops.restore_v2: one output per name, of the dtype given for it.
std::vector<Output> RestoreV2(const Scope& s, Output prefix,
                              const std::vector<std::string>& tensor_names,
                              const std::vector<std::string>& shape_and_slices,
                              const std::vector<DType>& dtypes);
std::vector<Output> RestoreV2(const Scope& s, Output prefix, Output tensor_names,
                              Output shape_and_slices, const std::vector<DType>& dtypes);

// gen_io_ops.merge_v2_checkpoints with the prefixes packed into the 1-D
// tensor "<op>/checkpoint_prefixes" (a Pack node), as Python packs a list of
// tensors.
Operation MergeV2Checkpoints(const Scope& s, const std::vector<Output>& checkpoint_prefixes,
                             Output destination_prefix, bool delete_old_dirs = true);
Operation MergeV2Checkpoints(const Scope& s, Output checkpoint_prefixes,
                             Output destination_prefix, bool delete_old_dirs = true);

// "<basename>-<shard, 5 digits>-of-<num_shards, 5 digits>"; `shard` becomes
// the constant "<op>/shard".
Output ShardedFilename(const Scope& s, Output basename, int shard, Output num_shards);
Output ShardedFilename(const Scope& s, Output basename, Output shard, Output num_shards);

// tf.strings.join of scalar strings. The second form joins `input` and the
// string `suffix`, which becomes the constant "<op>/inputs_1" as Python
// converts it.
Output StringJoin(const Scope& s, const std::vector<Output>& inputs,
                  const std::string& separator = "");
Output StringJoin(const Scope& s, Output input, const std::string& suffix,
                  const std::string& separator = "");

}  // namespace ops
}  // namespace ckpt

#endif  // CKPT_RUNTIME_IO_OPS_H_
