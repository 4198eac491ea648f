// mpi_checkpoint: several processes, one checkpoint.
//
//   mpirun -np 4 mpi_checkpoint save DIR --step=100
//   mpirun -np 3 mpi_checkpoint restore DIR
//
// A model's variables are spread over the ranks of an MPI job as a trainer's
// are over its workers: whole variables go round-robin by rank, and two
// partitioned variables (an embedding table and a softmax weight matrix)
// are split by rows, each rank holding one contiguous block of rows.
//
// save: every rank writes the variables it owns to a bundle of its own,
// DIR/model.ckpt-N_temp_<id>/part-0000R-of-0000P, all in parallel. Once every
// rank has finished, rank 0 merges the parts into one checkpoint
// DIR/model.ckpt-N with one data file per rank (MergeBundles renames the
// data files and commits the merged index by temp + rename), then names it
// in DIR/checkpoint (written atomically too). A crash at any point leaves
// either the previous checkpoint or the new one as the latest, never a mix.
//
// restore: the job may have any number of ranks, not just the number that
// saved. Rank 0 finds the latest checkpoint and tells the others (so all
// restore the same one even if a save lands meanwhile); each rank reads the
// variables it owns under the new partitioning (a block of rows is read with
// ReadSlice, assembled from whichever saved slices cover it) and checks
// every value.
//
// Values are a pure function of (variable name, element index, step), so a
// rank checks what it reads without asking any other.
//
// Errors: each phase ends in a collective vote (MPI_Allreduce of a status
// code), never in a bare barrier, so an error on one rank makes every rank
// exit with the same non-zero code instead of leaving the others waiting.
// Exit codes: 0 ok, 1 a value did not match, 2 usage or I/O error. One
// summary line per rank is printed by rank 0, in rank order.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor.h"
#include "ckpt/tensor_slice.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitMismatch = 1;
constexpr int kExitError = 2;

constexpr char kUsage[] =
    "usage: mpirun -np P mpi_checkpoint save DIR --step=N\n"
    "       mpirun -np P mpi_checkpoint restore DIR\n"
    "\n"
    "save     each of the P ranks saves the variables it owns to its own bundle;\n"
    "         rank 0 merges them into DIR/model.ckpt-N (one data file per rank)\n"
    "         and names it in DIR/checkpoint.\n"
    "restore  reads the latest checkpoint in DIR back; each rank checks the\n"
    "         variables it owns when the model is spread over P ranks (P need\n"
    "         not be the number of ranks that saved).\n"
    "\n"
    "Exit status (the same on every rank): 0 ok, 1 a restored value differs\n"
    "from what was saved, 2 usage or I/O error.\n";

// ---- the model ------------------------------------------------------------

struct Variable {
  const char* name;
  ckpt::DType dtype;
  std::vector<int64_t> dims;
  bool partitioned;  // split by rows over the ranks; otherwise owned whole
};

const std::vector<Variable>& Model() {
  static const std::vector<Variable> model = {
      {"global_step", ckpt::DT_INT64, {}, false},
      {"dense_0/kernel", ckpt::DT_FLOAT, {64, 128}, false},
      {"dense_0/bias", ckpt::DT_FLOAT, {128}, false},
      {"dense_1/kernel", ckpt::DT_FLOAT, {128, 32}, false},
      {"dense_1/bias", ckpt::DT_FLOAT, {32}, false},
      {"logits/kernel", ckpt::DT_DOUBLE, {32, 10}, false},
      {"logits/bias", ckpt::DT_DOUBLE, {10}, false},
      {"token_counts", ckpt::DT_INT64, {1000}, false},
      {"vocab", ckpt::DT_STRING, {50}, false},
      {"embedding", ckpt::DT_FLOAT, {1000, 16}, true},
      // 1001 rows: no rank count above 1 divides it, so blocks are uneven.
      {"softmax/weights", ckpt::DT_DOUBLE, {1001, 8}, true},
  };
  return model;
}

ckpt::TensorShape ShapeOf(const Variable& v) { return *ckpt::TensorShape::FromDims(v.dims); }

// The whole variables rank `rank` of `size` owns: the k-th goes to k % size.
std::vector<const Variable*> WholeVariablesOf(int rank, int size) {
  std::vector<const Variable*> owned;
  int k = 0;
  for (const Variable& v : Model()) {
    if (v.partitioned) continue;
    if (k++ % size == rank) owned.push_back(&v);
  }
  return owned;
}

// Rows [first, first + count) of `rows`, split over `size` ranks in
// contiguous blocks, the first rows % size blocks one row longer (the way
// TensorFlow's fixed-size partitioner splits).
std::pair<int64_t, int64_t> RowBlock(int64_t rows, int rank, int size) {
  const int64_t base = rows / size, extra = rows % size;
  const int64_t first = rank * base + std::min<int64_t>(rank, extra);
  return {first, base + (rank < extra ? 1 : 0)};
}

ckpt::TensorSlice RowSlice(const Variable& v, int64_t first, int64_t count) {
  std::vector<std::pair<int64_t, int64_t>> extents(v.dims.size(),
                                                   {0, ckpt::TensorSlice::kFullExtent});
  extents[0] = {first, count};
  return *ckpt::TensorSlice::FromExtents(extents);
}

// ---- values: a pure function of (name, element index, step) ---------------

uint64_t Mix(uint64_t x) {  // SplitMix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t ElementHash(absl::string_view name, int64_t index, int64_t step) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a of the name
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return Mix(h ^ Mix(static_cast<uint64_t>(index) ^ Mix(static_cast<uint64_t>(step))));
}

// Elements [first, first + shape.num_elements()) of variable `v` in
// row-major order, at `step`. Floating-point values are small integers
// scaled by a power of two: exact in their type, no rounding to argue about.
ckpt::Tensor Values(const Variable& v, int64_t step, int64_t first,
                    const ckpt::TensorShape& shape) {
  ckpt::Tensor t(v.dtype, shape);
  const int64_t n = shape.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t h = ElementHash(v.name, first + i, step);
    switch (v.dtype) {
      case ckpt::DT_FLOAT:
        t.mutable_flat<float>()[i] =
            static_cast<float>(static_cast<int64_t>(h >> 40) - (int64_t{1} << 23)) / (1 << 20);
        break;
      case ckpt::DT_DOUBLE:
        t.mutable_flat<double>()[i] =
            static_cast<double>(static_cast<int64_t>(h >> 11) - (int64_t{1} << 52)) /
            static_cast<double>(int64_t{1} << 50);
        break;
      case ckpt::DT_INT64:
        t.mutable_flat<int64_t>()[i] =
            absl::string_view(v.name) == "global_step" ? step : static_cast<int64_t>(h);
        break;
      case ckpt::DT_STRING:
        (*t.mutable_strings())[i] = absl::StrCat("token", first + i, "_", absl::Hex(h >> 44));
        break;
      default:
        break;  // the model has no other dtypes
    }
  }
  return t;
}

std::string ElementString(const ckpt::Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case ckpt::DT_FLOAT:
      return absl::StrFormat("%.9g", t.flat<float>()[i]);
    case ckpt::DT_DOUBLE:
      return absl::StrFormat("%.17g", t.flat<double>()[i]);
    case ckpt::DT_INT64:
      return absl::StrCat(t.flat<int64_t>()[i]);
    case ckpt::DT_STRING:
      return absl::StrCat("\"", absl::CHexEscape(t.strings()[i]), "\"");
    default:
      return "?";
  }
}

struct CheckResult {
  int64_t values = 0;      // elements compared
  int64_t mismatches = 0;  // elements (or whole tensors) that differ
  std::string first;       // the first difference, for the summary
};

// Compares `got` (elements [first, ...) of `v`) with the values saved.
void Check(const Variable& v, int64_t step, int64_t first, const ckpt::Tensor& got,
           const ckpt::TensorShape& want_shape, CheckResult* result) {
  const int64_t n = want_shape.num_elements();
  result->values += n;
  if (got.dtype() != v.dtype || got.shape() != want_shape) {
    result->mismatches += n;
    if (result->first.empty()) {
      result->first = absl::StrCat(v.name, " is ", got.DebugString(), ", expected ",
                                   ckpt::Tensor(v.dtype, want_shape).DebugString());
    }
    return;
  }
  const ckpt::Tensor want = Values(v, step, first, want_shape);
  if (got.Identical(want)) return;
  const size_t width = v.dtype == ckpt::DT_STRING ? 0 : ckpt::DTypeSize(v.dtype);
  for (int64_t i = 0; i < n; ++i) {
    const bool same = width == 0 ? got.strings()[i] == want.strings()[i]
                                 : std::memcmp(got.raw_data() + i * width,
                                               want.raw_data() + i * width, width) == 0;
    if (same) continue;
    if (result->mismatches++ == 0) {
      result->first = absl::StrCat(v.name, " element ", first + i, " is ", ElementString(got, i),
                                   ", expected ", ElementString(want, i));
    }
  }
}

// ---- collective helpers ---------------------------------------------------

struct World {
  int rank = 0;
  int size = 1;
};

// Every rank's `code` (0 ok, 1 mismatch, 2 error): returns the largest and
// sets *failed to how many ranks reported a non-zero code. Every rank must
// call it at the same point; this is what keeps an error on one rank from
// leaving the others blocked.
int Vote(int code, int* failed = nullptr) {
  int worst = 0, count = code != 0 ? 1 : 0, total = 0;
  MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Allreduce(&count, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (failed != nullptr) *failed = total;
  return worst;
}

// Rank 0's `value` on every rank.
std::string Broadcast(std::string value) {
  uint64_t n = value.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  value.resize(n);
  MPI_Bcast(value.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return value;
}

// Rank 0 prints every rank's line in rank order: to stderr when that rank
// failed (error or mismatch), else to stdout.
void PrintInRankOrder(const World& world, const std::string& line, int code) {
  const std::string mine = absl::StrCat(code != kExitOk ? "E" : "O", line);
  int len = static_cast<int>(mine.size());
  std::vector<int> lens(world.rank == 0 ? world.size : 0);
  MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> offsets(lens.size());
  int total = 0;
  for (size_t r = 0; r < lens.size(); ++r) {
    offsets[r] = total;
    total += lens[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Gatherv(mine.data(), len, MPI_CHAR, all.data(), lens.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  for (size_t r = 0; r < lens.size(); ++r) {
    const std::string text = all.substr(offsets[r] + 1, lens[r] - 1);
    std::fprintf(all[offsets[r]] == 'E' ? stderr : stdout, "%s\n", text.c_str());
  }
  std::fflush(stdout);
  std::fflush(stderr);
}

std::string RankLabel(const World& world) {
  return absl::StrCat("rank ", world.rank, " of ", world.size);
}

std::string Rows(const Variable& v, int64_t first, int64_t count) {
  return absl::StrCat(v.name, " rows [", first, ", ", first + count, ")");
}

// ---- save -----------------------------------------------------------------

std::string CheckpointName(int64_t step) { return absl::StrCat("model.ckpt-", step); }

std::string PartPrefix(const std::string& part_dir, int rank, int size) {
  return absl::StrFormat("%s/part-%05d-of-%05d", part_dir, rank, size);
}

// Writes this rank's variables to its own bundle at `part`; *what describes
// them for the summary.
absl::Status WritePart(const World& world, const std::string& part, int64_t step,
                       std::string* what) {
  ckpt::BundleWriter writer(part);
  std::vector<std::string> names;
  for (const Variable* v : WholeVariablesOf(world.rank, world.size)) {
    CKPT_RETURN_IF_ERROR(writer.Add(v->name, Values(*v, step, 0, ShapeOf(*v))));
    names.push_back(v->name);
  }
  std::vector<std::string> blocks;
  for (const Variable& v : Model()) {
    if (!v.partitioned) continue;
    const ckpt::TensorShape full = ShapeOf(v);
    const auto [first, count] = RowBlock(v.dims[0], world.rank, world.size);
    if (count == 0) continue;  // more ranks than rows
    const ckpt::TensorSlice slice = RowSlice(v, first, count);
    const int64_t row_elements = full.num_elements() / v.dims[0];
    CKPT_RETURN_IF_ERROR(writer.AddSlice(
        v.name, full, slice, Values(v, step, first * row_elements, *slice.SliceShape(full))));
    blocks.push_back(Rows(v, first, count));
  }
  CKPT_RETURN_IF_ERROR(writer.Finish());
  *what = absl::StrCat(names.size(), " variables (", absl::StrJoin(names, ", "), "), ",
                       absl::StrJoin(blocks, ", "));
  return absl::OkStatus();
}

// Names `name` (a checkpoint in `dir`) as the latest in dir/checkpoint,
// keeping the earlier ones listed; a checkpoint saved again moves to the end.
absl::Status UpdateCheckpointState(ckpt::Env* env, const std::string& dir,
                                   const std::string& name) {
  tensorflow::CheckpointState old;
  absl::StatusOr<tensorflow::CheckpointState> read = ckpt::ReadCheckpointState(env, dir);
  if (read.ok()) {
    old = *std::move(read);
  } else if (!absl::IsNotFound(read.status())) {
    return read.status();
  }
  const bool timestamps =
      old.all_model_checkpoint_timestamps_size() == old.all_model_checkpoint_paths_size();
  tensorflow::CheckpointState state;
  for (int i = 0; i < old.all_model_checkpoint_paths_size(); ++i) {
    if (old.all_model_checkpoint_paths(i) == name) continue;
    state.add_all_model_checkpoint_paths(old.all_model_checkpoint_paths(i));
    if (timestamps) {
      state.add_all_model_checkpoint_timestamps(old.all_model_checkpoint_timestamps(i));
    }
  }
  state.add_all_model_checkpoint_paths(name);
  if (timestamps) state.add_all_model_checkpoint_timestamps(env->NowSeconds());
  state.set_model_checkpoint_path(name);
  state.set_last_preserved_timestamp(old.last_preserved_timestamp());
  return ckpt::WriteCheckpointState(env, dir, state);
}

int Save(const World& world, const std::string& dir, int64_t step) {
  ckpt::Env* env = ckpt::Env::Default();
  const double start = MPI_Wtime();
  // The parts' directory is named by a number rank 0 draws for this save,
  // so parts of an earlier save that died never mix with this one's.
  uint64_t save_id = world.rank == 0 ? env->Random64() : 0;
  MPI_Bcast(&save_id, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  const std::string merged = absl::StrCat(dir, "/", CheckpointName(step));
  const std::string part_dir = absl::StrCat(merged, "_temp_", absl::Hex(save_id, absl::kZeroPad16));
  const std::string part = PartPrefix(part_dir, world.rank, world.size);

  // Phase 1, every rank in parallel: write the own part.
  std::string what;
  absl::Status s = WritePart(world, part, step, &what);
  uint64_t part_bytes = 0;
  if (s.ok()) {
    absl::StatusOr<uint64_t> size = env->GetFileSize(ckpt::DataFilename(part, 0, 1));
    if (size.ok()) part_bytes = *size;
  }
  int failed = 0;
  if (Vote(s.ok() ? kExitOk : kExitError, &failed) != kExitOk) {
    // No merge: the parts that were written are removed (a failed
    // BundleWriter has removed its own temporary files already).
    if (s.ok()) {
      env->DeleteFile(ckpt::IndexFilename(part)).IgnoreError();
      env->DeleteFile(ckpt::DataFilename(part, 0, 1)).IgnoreError();
    }
    MPI_Barrier(MPI_COMM_WORLD);  // safe: every rank is on this path
    if (world.rank == 0) env->DeleteDir(part_dir).IgnoreError();
    const std::string line =
        s.ok() ? absl::StrCat(RankLabel(world), ": wrote ", part, ", removed it: the save failed on ",
                              failed, " of ", world.size, " ranks")
               : absl::StrCat("mpi_checkpoint: ", RankLabel(world), ": ", s.ToString());
    PrintInRankOrder(world, line, s.ok() ? kExitOk : kExitError);
    return kExitError;
  }

  // Phase 2, rank 0 alone: merge, then name the checkpoint. Every part is
  // complete (its index renamed into place) before any rank got past the vote.
  if (world.rank == 0) {
    std::vector<std::string> parts;
    for (int r = 0; r < world.size; ++r) parts.push_back(PartPrefix(part_dir, r, world.size));
    s = ckpt::MergeBundles(env, parts, merged);
    if (s.ok()) s = UpdateCheckpointState(env, dir, CheckpointName(step));
  }
  const int code = Vote(s.ok() ? kExitOk : kExitError);
  const double seconds = MPI_Wtime() - start;
  PrintInRankOrder(world, absl::StrFormat("%s: saved %s (%d bytes)", RankLabel(world), what,
                                          part_bytes),
                   kExitOk);
  if (world.rank == 0) {
    if (s.ok()) {
      std::printf("merged %d parts into %s in %.3f s; %s/%s names it\n", world.size,
                  merged.c_str(), seconds, dir.c_str(), ckpt::kCheckpointStateFileName);
    } else {
      std::fprintf(stderr, "mpi_checkpoint: merging into %s: %s\n", merged.c_str(),
                   s.ToString().c_str());
    }
  }
  return code;
}

// ---- restore --------------------------------------------------------------

// The step in a prefix ".../model.ckpt-<step>".
absl::StatusOr<int64_t> StepOf(const std::string& prefix) {
  const size_t dash = prefix.rfind('-');
  int64_t step = 0;
  if (dash == std::string::npos || !absl::SimpleAtoi(prefix.substr(dash + 1), &step) || step < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", prefix, " is not named model.ckpt-<step>"));
  }
  return step;
}

// Reads and checks what this rank owns; *what describes it.
absl::Status RestoreOwn(const World& world, const std::string& prefix, CheckResult* result,
                        std::string* what) {
  CKPT_ASSIGN_OR_RETURN(const int64_t step, StepOf(prefix));
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ckpt::BundleReader> reader,
                        ckpt::BundleReader::Open(prefix));
  std::vector<std::string> parts;
  const std::vector<const Variable*> whole = WholeVariablesOf(world.rank, world.size);
  for (const Variable* v : whole) {
    CKPT_ASSIGN_OR_RETURN(ckpt::Tensor t, reader->Read(v->name));
    Check(*v, step, 0, t, ShapeOf(*v), result);
  }
  parts.push_back(absl::StrCat(whole.size(), " variables"));
  for (const Variable& v : Model()) {
    if (!v.partitioned) continue;
    const ckpt::TensorShape full = ShapeOf(v);
    const auto [first, count] = RowBlock(v.dims[0], world.rank, world.size);
    if (count == 0) continue;
    const ckpt::TensorSlice slice = RowSlice(v, first, count);
    CKPT_ASSIGN_OR_RETURN(ckpt::Tensor t, reader->ReadSlice(v.name, slice));
    Check(v, step, first * (full.num_elements() / v.dims[0]), t, *slice.SliceShape(full), result);
    parts.push_back(Rows(v, first, count));
  }
  // Rank 0 also checks that the checkpoint holds exactly the model's
  // variables, nothing more.
  if (world.rank == 0) {
    for (const ckpt::BundleEntryInfo& e : reader->entries()) {
      const bool known = std::any_of(Model().begin(), Model().end(),
                                     [&](const Variable& v) { return e.name == v.name; });
      if (!known && result->mismatches++ == 0) {
        result->first = absl::StrCat("the checkpoint has a tensor '", e.name,
                                     "' that the model lacks");
      }
    }
  }
  *what = absl::StrJoin(parts, ", ");
  return absl::OkStatus();
}

int Restore(const World& world, const std::string& dir) {
  const double start = MPI_Wtime();
  absl::StatusOr<std::string> latest = std::string();
  if (world.rank == 0) latest = ckpt::LatestCheckpoint(dir);
  if (Vote(latest.ok() ? kExitOk : kExitError) != kExitOk) {
    if (world.rank == 0) {
      std::fprintf(stderr, "mpi_checkpoint: %s\n", latest.status().ToString().c_str());
    }
    return kExitError;
  }
  const std::string prefix = Broadcast(*latest);

  CheckResult result;
  std::string what;
  const absl::Status s = RestoreOwn(world, prefix, &result, &what);
  const int mine = !s.ok() ? kExitError : result.mismatches > 0 ? kExitMismatch : kExitOk;
  int failed = 0;
  int code = Vote(mine, &failed);
  int64_t checked = 0;
  MPI_Allreduce(&result.values, &checked, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  // Every value of the model must have been checked exactly once across
  // the ranks; anything else is a bug in the partitioning above.
  int64_t model_values = 0;
  for (const Variable& v : Model()) model_values += ShapeOf(v).num_elements();
  if (code == kExitOk && checked != model_values) code = kExitMismatch;
  const double seconds = MPI_Wtime() - start;

  std::string line = RankLabel(world) + ": ";
  if (!s.ok()) {
    line = absl::StrCat("mpi_checkpoint: ", line, s.ToString());
  } else if (result.mismatches > 0) {
    absl::StrAppend(&line, what, ": ", result.mismatches, " of ", result.values,
                    " values differ; first: ", result.first);
  } else {
    absl::StrAppend(&line, what, ": ", result.values, " values match");
  }
  PrintInRankOrder(world, line, mine);
  if (world.rank == 0) {
    if (code == kExitOk) {
      std::printf("restored %s on %d ranks in %.3f s: all %lld values match\n", prefix.c_str(),
                  world.size, seconds, static_cast<long long>(checked));
    } else if (failed == 0) {
      std::fprintf(stderr, "mpi_checkpoint: %lld values checked, but the model has %lld\n",
                   static_cast<long long>(checked), static_cast<long long>(model_values));
    } else {
      std::fprintf(stderr, "mpi_checkpoint: restoring %s failed on %d of %d ranks (exit %d)\n",
                   prefix.c_str(), failed, world.size, code);
    }
  }
  return code;
}

// ---- command line ---------------------------------------------------------

struct Args {
  std::string command;
  std::string dir;
  int64_t step = -1;
  bool help = false;
};

// An empty string when the arguments are usable, else what is wrong.
std::string ParseArgs(int argc, char** argv, Args* args) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args->help = true;
    } else if (absl::ConsumePrefix(&arg, "--step=")) {
      if (!absl::SimpleAtoi(arg, &args->step) || args->step < 0) {
        return absl::StrCat("--step wants a number >= 0, not '", arg, "'");
      }
    } else if (absl::StartsWith(arg, "-")) {
      return absl::StrCat("unknown option ", arg);
    } else {
      positional.emplace_back(arg);
    }
  }
  if (args->help) return "";
  if (positional.size() != 2) return "expected a command and a directory";
  args->command = positional[0];
  args->dir = positional[1];
  while (args->dir.size() > 1 && args->dir.back() == '/') args->dir.pop_back();
  if (args->command == "save") {
    if (args->step < 0) return "save needs --step=N";
  } else if (args->command == "restore") {
    if (args->step >= 0) return "restore takes no --step (it restores the latest checkpoint)";
  } else {
    return absl::StrCat("unknown command '", args->command, "'");
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  World world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);

  // Every rank parses the same arguments and so takes the same path; only
  // rank 0 speaks.
  Args args;
  const std::string error = ParseArgs(argc, argv, &args);
  int code;
  if (args.help) {
    if (world.rank == 0) std::fputs(kUsage, stdout);
    code = kExitOk;
  } else if (!error.empty()) {
    if (world.rank == 0) std::fprintf(stderr, "mpi_checkpoint: %s\n%s", error.c_str(), kUsage);
    code = kExitError;
  } else if (args.command == "save") {
    code = Save(world, args.dir, args.step);
  } else {
    code = Restore(world, args.dir);
  }
  MPI_Finalize();
  return code;
}
