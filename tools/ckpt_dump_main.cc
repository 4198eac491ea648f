// ckpt_dump PATH: what is in a checkpoint — header and one row per tensor.
#include <iostream>

#include "absl/strings/str_format.h"
#include "ckpt/bundle_reader.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/listing.h"

int main(int argc, char** argv) {
  using namespace ckpt::tools;
  CommandLine cli("ckpt_dump",
                  "Usage: ckpt_dump [options] PATH\n"
                  "Lists the tensors of a checkpoint. PATH is a prefix (model.ckpt), one of its\n"
                  "files, a directory with a 'checkpoint' file, or a SavedModel directory.",
                  {{"json", false, false, "print one JSON document instead of a table"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 1) return cli.Fail("expected one PATH (see --help)");
  absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(cli.positional()[0]);
  if (!prefix.ok()) return cli.Fail(prefix.status());
  absl::StatusOr<std::unique_ptr<ckpt::BundleReader>> reader = ckpt::BundleReader::Open(*prefix);
  if (!reader.ok()) return cli.Fail(reader.status());
  std::cout << (cli.Has("json") ? ListingJson(**reader) : ListingText(**reader));
  return kExitOk;
}
