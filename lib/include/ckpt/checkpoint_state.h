// ckpt/checkpoint_state.h — the `checkpoint` file that names a directory's
// latest checkpoint, and finding that checkpoint.
//
//   // after saving dir/model.ckpt-100:
//   tensorflow::CheckpointState st;
//   st.set_model_checkpoint_path("model.ckpt-100");
//   st.add_all_model_checkpoint_paths("model.ckpt-100");
//   CKPT_RETURN_IF_ERROR(ckpt::WriteCheckpointState(env, "dir", st));
//
//   // on start-up:
//   auto latest = ckpt::LatestCheckpoint("dir");   // "dir/model.ckpt-100"
//
// The file is CheckpointState in protobuf text format, written exactly as
// TensorFlow's Python writes it, atomically (temporary file + rename).
// Errors name the file: NotFound when there is no state file or no
// checkpoint it could mean, InvalidArgument for malformed text (with the
// line). The functions keep no state.
#ifndef CKPT_CHECKPOINT_STATE_H_
#define CKPT_CHECKPOINT_STATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "checkpoint_state.pb.h"
#include "ckpt/env.h"

namespace ckpt {

constexpr char kCheckpointStateFileName[] = "checkpoint";

// Text-format bytes as TensorFlow writes them: fields in number order, one
// line per element, strings quoted with C escapes and octal for bytes
// outside printable ASCII, doubles in shortest round-trip form.
std::string FormatCheckpointState(const ::tensorflow::CheckpointState& state);
// Parses text-format CheckpointState; InvalidArgument naming the line on
// malformed text. `source` names the file in errors.
absl::StatusOr<::tensorflow::CheckpointState> ParseCheckpointState(
    absl::string_view text, absl::string_view source = "checkpoint");

// Reads dir/<state_file>. NotFound when absent; InvalidArgument (naming the
// file) when unparsable or model_checkpoint_path is empty. Paths are returned
// as stored (not resolved).
absl::StatusOr<::tensorflow::CheckpointState> ReadCheckpointState(
    Env* env, const std::string& dir,
    const std::string& state_file = kCheckpointStateFileName);

// Writes dir/<state_file> atomically. Ensures the last of
// all_model_checkpoint_paths is model_checkpoint_path (appending it if not).
// InvalidArgument if the state file path would equal the model path.
absl::Status WriteCheckpointState(Env* env, const std::string& dir,
                                  const ::tensorflow::CheckpointState& state,
                                  const std::string& state_file = kCheckpointStateFileName);

// The prefix of the latest checkpoint in `dir`: model_checkpoint_path, made
// absolute relative to `dir` when relative. When that prefix has no
// checkpoint (neither P.index nor a V1 file P) but a checkpoint with the same
// base name exists in `dir` (the directory was moved or copied), returns that
// one. NotFound, saying what was looked for, when there is none.
absl::StatusOr<std::string> LatestCheckpoint(
    const std::string& dir, Env* env = nullptr,
    const std::string& state_file = kCheckpointStateFileName);

// True when a checkpoint exists at `prefix`: P.index (V2), the file P (V1),
// or the shards of a sharded V1 checkpoint (P-?????-of-N, or P-00000-of-N...).
bool CheckpointExists(Env* env, const std::string& prefix);

}  // namespace ckpt

#endif  // CKPT_CHECKPOINT_STATE_H_
