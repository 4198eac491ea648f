// ckpt_convert SRC DST: converts between a TensorFlow checkpoint (bundle
// prefix), NumPy's .npz and .safetensors, chosen by each path's ending. A
// bundle copied to a bundle keeps its slices and byte order, so a checkpoint
// TensorFlow wrote comes out byte for byte the same.
#include <iostream>

#include "common/cli.h"
#include "common/convert.h"
#include "common/format.h"

int main(int argc, char** argv) {
  using namespace ckpt::tools;
  CommandLine cli(
      "ckpt_convert",
      "Usage: ckpt_convert [options] SRC DST\n"
      "Converts SRC to DST; each is a checkpoint (a prefix, or for SRC one of its files\n"
      "or a directory with a 'checkpoint' file), a NumPy '.npz' or a '.safetensors' file,\n"
      "by its ending. Every tensor is verified on the way; memory stays about one tensor.\n"
      "A tensor the destination cannot hold (strings in .safetensors, float8 in .npz, ...)\n"
      "is skipped with a warning, or fails the conversion with --strict (exit 1).",
      {{"quiet", false, false, "print nothing on success"},
       {"compress", false, false, ".npz: deflate members (np.savez_compressed) instead of storing them"},
       {"strings", true, false,
        ".npz: string tensors as 'bytes' (default, '|S<n>', what TensorFlow strings are) or "
        "'unicode' ('<U<n>'; tensors that are not all UTF-8 stay bytes, with a note)"},
       {"bf16_to_f32", false, false, ".npz: bfloat16 as float32 instead of its bits as uint16"},
       {"strict", false, false, "fail (exit 1) instead of skipping a tensor DST cannot hold"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 2) return cli.Fail("expected SRC and DST (see --help)");
  SinkOptions options;
  options.compress = cli.Has("compress");
  options.bf16_to_f32 = cli.Has("bf16_to_f32");
  options.strict = cli.Has("strict");
  const std::string strings = cli.Get("strings", "bytes");
  if (strings != "bytes" && strings != "unicode") {
    return cli.Fail("--strings must be 'bytes' or 'unicode', not '" + strings + "'");
  }
  options.strings_as_unicode = strings == "unicode";
  const std::string& dst = cli.positional()[1];
  absl::StatusOr<ConvertStats> stats = Convert(cli.positional()[0], dst, options);
  if (!stats.ok()) {
    // Messages carry tensor names from the file: escaped for the terminal.
    cli.Fail(DisplayName(stats.status().message()));
    return IsStrictRefusal(stats.status()) ? kExitDifferent : kExitError;
  }
  if (!cli.Has("quiet")) {
    std::cout << "wrote " << dst << ": " << stats->tensors << " tensors, " << stats->bytes
              << " bytes";
    if (stats->skipped > 0) std::cout << ", " << stats->skipped << " skipped";
    std::cout << "\n";
  }
  return kExitOk;
}
