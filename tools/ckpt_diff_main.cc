// ckpt_diff A B: compares two checkpoints tensor by tensor.
#include <cmath>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/diff.h"

namespace {

constexpr char kSynopsis[] =
    "Usage: ckpt_diff [options] A B\n"
    "Compares two checkpoints tensor by tensor. A and B are each a prefix\n"
    "(model.ckpt), one of its files, a directory with a 'checkpoint' file, or a\n"
    "SavedModel directory. One tensor of each is in memory at a time; partitioned\n"
    "tensors are compared whole.\n"
    "\n"
    "Equality: by default values must be bitwise equal (a NaN equals a NaN with\n"
    "the same bits; +0 differs from -0). With --atol or --rtol, NumPy's allclose:\n"
    "|a-b| <= atol + rtol*|b| (an option not given is 0); NaNs are then unequal\n"
    "unless --equal_nan. Complex values use the modulus of a-b and of b. Strings\n"
    "must match byte for byte; variant and resource tensors are compared by the\n"
    "checksum of their stored bytes.\n"
    "\n"
    "Report: the tensors that differ, biggest change first: dtype changes, shape\n"
    "changes, names only in A, names only in B, then changed values ordered by\n"
    "max |a-b| divided by the root mean square of A's values (NaN/Inf changes and\n"
    "changes of an all-zero tensor first; strings by the fraction that differ),\n"
    "then by the number of differing elements. For each: how many elements\n"
    "differ, the first differing index, max absolute and relative (|a-b|/|b|)\n"
    "difference, the L2 norms of A-B and of A (over finite values). Then one\n"
    "line: 'N identical, N changed, N only in A, N only in B'.\n"
    "\n"
    "--json prints one document: {\"a\", \"b\", \"options\": {\"atol\", \"rtol\",\n"
    "\"equal_nan\", \"names_only\", \"include\", \"exclude\"}, \"tensors\": [{\"name\",\n"
    "\"status\" (dtype_changed, shape_changed, only_in_a, only_in_b, values_differ,\n"
    "within_tolerance, identical), \"a\" and \"b\": {\"dtype\", \"shape\"} or null,\n"
    "\"values\": null or {\"kind\": numeric|string|opaque, \"elements\",\n"
    "\"differing\", \"bitwise_differing\", \"nonfinite_differing\",\n"
    "\"first_diff_index\", \"max_abs_diff\", \"max_rel_diff\", \"l2_diff\", \"l2_a\",\n"
    "\"stored_bytes_equal\"}}] (every selected tensor, in report order), \"summary\":\n"
    "{\"identical\", \"within_tolerance\", \"changed\", \"only_in_a\", \"only_in_b\",\n"
    "\"equal\"}}. Numbers that are infinite are null.";

// A tolerance must be a finite number >= 0.
bool ParseTolerance(const ckpt::tools::CommandLine& cli, const std::string& flag,
                    double* value, int* code) {
  if (!cli.Has(flag)) return true;
  const std::string text = cli.Get(flag);
  if (!absl::SimpleAtod(text, value) || !std::isfinite(*value) || *value < 0) {
    *code = cli.Fail(absl::StrCat("--", flag, " wants a number >= 0, got '", text, "'"));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ckpt::tools;
  CommandLine cli("ckpt_diff", kSynopsis,
                  {{"atol", true, false, "absolute tolerance (default: exact comparison)"},
                   {"rtol", true, false, "relative tolerance, times |b|"},
                   {"equal_nan", false, false, "NaNs compare equal to each other"},
                   {"names_only", false, false, "compare names, dtypes and shapes only"},
                   {"include", true, true, "compare only names matching this glob"},
                   {"exclude", true, true, "skip names matching this glob (*, ?)"},
                   {"all", false, false, "list identical tensors too"},
                   {"json", false, false, "print one JSON document instead of text"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 2) return cli.Fail("expected two checkpoints A and B (see --help)");

  DiffOptions options;
  options.tolerant = cli.Has("atol") || cli.Has("rtol");
  if (!ParseTolerance(cli, "atol", &options.atol, &code)) return code;
  if (!ParseTolerance(cli, "rtol", &options.rtol, &code)) return code;
  options.equal_nan = cli.Has("equal_nan");
  options.names_only = cli.Has("names_only");
  options.include = cli.GetAll("include");
  options.exclude = cli.GetAll("exclude");

  std::unique_ptr<ckpt::BundleReader> readers[2];
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(cli.positional()[k]);
    if (!prefix.ok()) return cli.Fail(prefix.status());
    absl::StatusOr<std::unique_ptr<ckpt::BundleReader>> reader =
        ckpt::BundleReader::Open(*prefix);
    if (!reader.ok()) return cli.Fail(reader.status());
    readers[k] = std::move(*reader);
  }
  absl::StatusOr<DiffReport> report = DiffCheckpoints(*readers[0], *readers[1], options);
  if (!report.ok()) return cli.Fail(report.status());
  std::cout << (cli.Has("json") ? DiffJson(*report) : DiffText(*report, cli.Has("all")));
  return report->equal() ? kExitOk : kExitDifferent;
}
