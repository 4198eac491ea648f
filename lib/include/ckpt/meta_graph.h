// ckpt/meta_graph.h — the graph files beside a checkpoint: a TF1 Saver's
// `.meta` file (a binary MetaGraphDef) and a SavedModel's saved_model.pb.
//
//   auto mg = ckpt::ReadMetaGraph("/tmp/run/model.ckpt-100.meta");
//   if (!mg.ok()) return mg.status();
//   const tensorflow::SaverDef& saver = mg->saver_def();  // "save/Const:0", ...
//   bool trainable = mg->collection_def().count("trainable_variables") > 0;
//   CKPT_RETURN_IF_ERROR(ckpt::WriteMetaGraph("/tmp/run/copy.meta", *mg));
//
//   auto sm = ckpt::ReadSavedModel("/models/half_plus_two/00000123");
//   std::string prefix =                                 // a V2 bundle prefix
//       ckpt::SavedModelVariablesPrefix("/models/half_plus_two/00000123");
//
// Parts of these protos ckpt does not interpret (function bodies, a TF2
// SavedObjectGraph, type specs, debug info) are declared as empty messages;
// their contents are kept as unknown fields, so a read followed by a write
// reproduces them unchanged.
//
// Reading is safe on hostile input: a file larger than kMaxGraphFileBytes is
// refused before it is read, message nesting is limited to
// kMaxGraphNestingDepth, and any parse failure is a DataLoss status naming
// the file. Nothing in the file can make the reader crash.
//
// Thread safety: the functions keep no state; concurrent calls are safe
// when the Env is.
#ifndef CKPT_META_GRAPH_H_
#define CKPT_META_GRAPH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ckpt/env.h"
#include "meta_graph.pb.h"
#include "saved_model.pb.h"

namespace ckpt {

// A SavedModel directory's graph file and the directory of its variables.
constexpr char kSavedModelFileName[] = "saved_model.pb";
constexpr char kSavedModelVariablesDir[] = "variables";
constexpr char kSavedModelVariablesBaseName[] = "variables";

// Limits applied when parsing graph files. Protobuf cannot represent a
// message of 2 GiB or more; real graphs are far below 1 GiB.
constexpr uint64_t kMaxGraphFileBytes = uint64_t{1} << 30;
constexpr int kMaxGraphNestingDepth = 100;

// Reads a binary MetaGraphDef (a `.meta` file). NotFound when the file is
// absent; DataLoss "not a MetaGraphDef" when it is empty or does not parse;
// ResourceExhausted when it exceeds kMaxGraphFileBytes. Errors name the file.
// `env` defaults to Env::Default().
absl::StatusOr<::tensorflow::MetaGraphDef> ReadMetaGraph(const std::string& path,
                                                         Env* env = nullptr);

// Reads a binary SavedModel: `dir_or_pb` is either a SavedModel directory
// (then <dir>/saved_model.pb is read) or the path of the .pb file itself.
// Errors as for ReadMetaGraph ("not a SavedModel"); a directory holding only
// the text form saved_model.pbtxt is Unimplemented.
absl::StatusOr<::tensorflow::SavedModel> ReadSavedModel(const std::string& dir_or_pb,
                                                        Env* env = nullptr);

// Writes `meta_graph` to `path` as TensorFlow does: binary, deterministic
// (map entries sorted by key), atomically (temporary file, fsync, rename). The
// same message always gives the same bytes, and a file read by ReadMetaGraph
// from TensorFlow's deterministic writer is written back byte for byte.
// InvalidArgument when the message is too large to serialize (2 GiB or more).
absl::Status WriteMetaGraph(const std::string& path,
                            const ::tensorflow::MetaGraphDef& meta_graph,
                            Env* env = nullptr);

// The V2 checkpoint prefix of a SavedModel's variables:
// "<saved_model_dir>/variables/variables".
std::string SavedModelVariablesPrefix(const std::string& saved_model_dir);

}  // namespace ckpt

#endif  // CKPT_META_GRAPH_H_
