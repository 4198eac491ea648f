// ckpt_dump PATH: what is in a checkpoint, whether it is intact, and the
// values, statistics, graph and state around it.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/json_out.h"
#include "common/listing.h"
#include "common/state.h"
#include "common/verify.h"

namespace {

using namespace ckpt::tools;

const char kSynopsis[] =
    "Usage: ckpt_dump [options] PATH\n"
    "Shows what is in a checkpoint. PATH is a prefix (model.ckpt), one of its files\n"
    "(.index, .data-*, .meta), a directory with a 'checkpoint' file (its latest\n"
    "checkpoint), or a SavedModel directory (its variables/variables).\n"
    "Without options: a header and one row per tensor (name, dtype, shape, bytes).";

int RunVerify(const CommandLine& cli, const ckpt::BundleReader& reader, bool json,
              nlohmann::ordered_json* doc) {
  VerifyReport report = VerifyCheckpoint(reader);
  if (json) {
    auto& tensors = (*doc)["tensors"];
    for (size_t i = 0; i < report.tensors.size(); ++i) {
      const TensorVerdict& v = report.tensors[i];
      tensors[i]["ok"] = v.ok;
      if (!v.checked) tensors[i]["checked"] = false;
      if (!v.ok) tensors[i]["error"] = std::string(v.status.message());
    }
    (*doc)["ok"] = report.ok();
    (*doc)["bad_tensors"] = report.bad;
    if (!report.structural_errors.empty()) (*doc)["file_errors"] = report.structural_errors;
  } else {
    for (const std::string& e : report.structural_errors) std::cout << "FILE   " << e << "\n";
    for (const TensorVerdict& v : report.tensors) {
      if (!v.ok) std::cout << "BAD    " << v.name << ": " << v.status.message() << "\n";
      if (!v.checked) std::cout << "SKIP   " << v.name << ": dtype cannot be decoded\n";
    }
    std::cout << "verify: " << report.tensors.size() - report.bad - report.unchecked << " ok, "
              << report.bad << " bad"
              << (report.unchecked ? absl::StrCat(", ", report.unchecked, " not checkable") : "")
              << (report.structural_errors.empty()
                      ? ""
                      : absl::StrCat(", ", report.structural_errors.size(), " damaged data file(s)"))
              << "\n";
  }
  if (!report.structural_errors.empty()) return kExitError;
  return report.ok() ? kExitOk : kExitDifferent;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cli("ckpt_dump", kSynopsis,
                  {{"json", false, false, "print one JSON document (fields in README)"},
                   {"verify", false, false,
                    "read every tensor and check every checksum; exit 1 if any is bad"},
                   {"state", false, false,
                    "the directory's 'checkpoint' file: checkpoints, times, which exist"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 1) return cli.Fail("expected one PATH (see --help)");
  const std::string path = cli.positional()[0];
  const bool json = cli.Has("json");

  if (cli.Has("state")) {
    absl::StatusOr<StateReport> state = DescribeCheckpointState(path);
    if (!state.ok()) return cli.Fail(state.status());
    std::cout << (json ? JsonText(state->json) : state->text);
    return kExitOk;
  }

  absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(path);
  if (!prefix.ok()) return cli.Fail(prefix.status());
  absl::StatusOr<std::unique_ptr<ckpt::BundleReader>> reader = ckpt::BundleReader::Open(*prefix);
  if (!reader.ok()) return cli.Fail(reader.status());

  nlohmann::ordered_json doc = ListingJson(**reader);
  if (!json) std::cout << ListingText(**reader);
  int exit_code = kExitOk;
  if (cli.Has("verify")) {
    if (!json) std::cout << "\n";
    exit_code = RunVerify(cli, **reader, json, &doc);
  }
  if (json) std::cout << JsonText(doc);
  return exit_code;
}
