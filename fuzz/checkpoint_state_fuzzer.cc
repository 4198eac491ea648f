// Fuzzes the `checkpoint` state file: parsing hostile text, and the round
// trip format -> parse of whatever parses.
//
// Properties checked when the input parses:
//   * FormatCheckpointState's output parses again to the same state (doubles
//     compared bitwise, except that every NaN equals every NaN: like
//     Python's repr, the formatter writes one "nan");
//   * formatting is a fixed point: format(parse(format(s))) == format(s).
// The whole input also goes through ReadCheckpointState and
// LatestCheckpoint on an in-memory directory.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "ckpt/checkpoint_state.h"
#include "fuzz_util.h"
#include "memory_env.h"

namespace {

bool SameDouble(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

bool SameState(const tensorflow::CheckpointState& a, const tensorflow::CheckpointState& b) {
  if (a.model_checkpoint_path() != b.model_checkpoint_path()) return false;
  if (a.all_model_checkpoint_paths_size() != b.all_model_checkpoint_paths_size()) return false;
  for (int i = 0; i < a.all_model_checkpoint_paths_size(); ++i) {
    if (a.all_model_checkpoint_paths(i) != b.all_model_checkpoint_paths(i)) return false;
  }
  if (a.all_model_checkpoint_timestamps_size() != b.all_model_checkpoint_timestamps_size()) {
    return false;
  }
  for (int i = 0; i < a.all_model_checkpoint_timestamps_size(); ++i) {
    if (!SameDouble(a.all_model_checkpoint_timestamps(i), b.all_model_checkpoint_timestamps(i))) {
      return false;
    }
  }
  return SameDouble(a.last_preserved_timestamp(), b.last_preserved_timestamp());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<tensorflow::CheckpointState> state = ckpt::ParseCheckpointState(text);
  if (state.ok()) {
    const std::string formatted = ckpt::FormatCheckpointState(*state);
    absl::StatusOr<tensorflow::CheckpointState> again =
        ckpt::ParseCheckpointState(formatted, "formatted");
    if (!again.ok()) {
      std::fprintf(stderr, "formatted text:\n%s\nerror: %s\n", formatted.c_str(),
                   std::string(again.status().message()).c_str());
    }
    FUZZ_CHECK(again.ok(), "formatted state does not parse");
    FUZZ_CHECK(SameState(*state, *again), "format -> parse changed the state");
    FUZZ_CHECK(ckpt::FormatCheckpointState(*again) == formatted,
               "formatting is not a fixed point");
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(state.status()), "parse error is not InvalidArgument");
  }

  ckpt::fuzz::MemoryEnv env;
  env.SetFile("/fuzz/run/checkpoint", text);
  env.SetFile("/fuzz/run/model.ckpt-1.index", "");
  absl::StatusOr<tensorflow::CheckpointState> read = ckpt::ReadCheckpointState(&env, "/fuzz/run");
  FUZZ_CHECK(!read.ok() || (state.ok() && !read->model_checkpoint_path().empty()),
             "ReadCheckpointState accepted what ParseCheckpointState did not");
  ckpt::LatestCheckpoint("/fuzz/run", &env).status().IgnoreError();
  return 0;
}
