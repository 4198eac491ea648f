// ckpt/naming.h — the file names that make up a checkpoint with prefix P.
//
//   std::string index = ckpt::IndexFilename("dir/model.ckpt");   // "dir/model.ckpt.index"
//   std::string data = ckpt::DataFilename("dir/model.ckpt", 0, 1);
//   // "dir/model.ckpt.data-00000-of-00001" (shard 0 of 1)
//   std::string meta = ckpt::MetaFilename("dir/model.ckpt-1000");  // "dir/model.ckpt-1000.meta"
//
// Pure string functions: they touch no file and are safe from any thread.
#ifndef CKPT_NAMING_H_
#define CKPT_NAMING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ckpt {

std::string IndexFilename(absl::string_view prefix);
// printf("%s.data-%05d-of-%05d"); wider numbers print wider.
std::string DataFilename(absl::string_view prefix, int64_t shard_id, int64_t num_shards);
// A trailing V1 shard suffix "-?????-of-NNNNN" (digits or '?') is dropped
// before ".meta" is appended, as TensorFlow does.
std::string MetaFilename(absl::string_view prefix);

}  // namespace ckpt

#endif  // CKPT_NAMING_H_
