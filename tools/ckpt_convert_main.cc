// ckpt_convert SRC DST: copies a checkpoint by reading every tensor and
// writing it again, in the source's data-file order, so that a checkpoint
// TensorFlow wrote comes out byte for byte the same.
#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/status_macros.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/convert.h"

int main(int argc, char** argv) {
  using namespace ckpt::tools;
  CommandLine cli("ckpt_convert",
                  "Usage: ckpt_convert [options] SRC DST\n"
                  "Copies the checkpoint SRC (a prefix, one of its files, or a directory with a\n"
                  "'checkpoint' file) to the prefix DST, verifying every tensor on the way.",
                  {{"quiet", false, false, "print nothing on success"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 2) return cli.Fail("expected SRC and DST (see --help)");
  absl::StatusOr<std::string> src = ResolveCheckpointPrefix(cli.positional()[0]);
  if (!src.ok()) return cli.Fail(src.status());
  absl::StatusOr<ConvertStats> stats = CopyBundle(*src, cli.positional()[1]);
  if (!stats.ok()) return cli.Fail(stats.status());
  if (!cli.Has("quiet")) {
    std::cout << "wrote " << cli.positional()[1] << ": " << stats->tensors << " tensors, "
              << stats->bytes << " bytes\n";
  }
  return kExitOk;
}
