// Fuzzes ckpt_convert's readers of files from elsewhere: .safetensors and
// .npz (the zip container through libzip, each member through our .npy
// parser).
//
// The first input byte picks the format (even: safetensors, odd: npz); the
// rest is the file. Opening may fail only with InvalidArgument, DataLoss,
// Unimplemented or OutOfRange, and never crash. When it opens, every tensor
// is read; a read may fail the same ways, and what it returns must have the
// dtype and shape the listing announced, with every byte readable. The
// listing's claims are not trusted: ASan's allocation limit catches a read
// that allocates what the file cannot back.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/npz.h"
#include "common/safetensors.h"
#include "common/tensor_source.h"
#include "fuzz_util.h"

namespace {

std::string g_path_st, g_path_npz;

bool ExpectedError(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsDataLoss(s) || absl::IsUnimplemented(s) ||
         absl::IsOutOfRange(s);
}

void WriteInput(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr, "cannot create the input file");
  FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size, "cannot write the input file");
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  // One file per process, rewritten for every input (the readers take a path).
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = std::string(tmp ? tmp : "/tmp") + "/ckpt_convert_fuzzer." +
                           std::to_string(::getpid());
  g_path_st = base + ".safetensors";
  g_path_npz = base + ".npz";
  std::atexit([] {
    std::remove(g_path_st.c_str());
    std::remove(g_path_npz.c_str());
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool npz = data[0] & 1;
  const std::string& path = npz ? g_path_npz : g_path_st;
  WriteInput(path, data + 1, size - 1);
  absl::StatusOr<std::unique_ptr<ckpt::tools::TensorSource>> src =
      npz ? ckpt::tools::OpenNpzSource(path) : ckpt::tools::OpenSafetensorsSource(path);
  if (!src.ok()) {
    FUZZ_CHECK(ExpectedError(src.status()), "unexpected error code from Open");
    return 0;
  }
  const auto& tensors = (*src)->tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    absl::StatusOr<ckpt::Tensor> t = (*src)->Read(i);
    if (!t.ok()) {
      FUZZ_CHECK(ExpectedError(t.status()), "unexpected error code from Read");
      continue;
    }
    FUZZ_CHECK(t->dtype() == tensors[i].dtype, "read returned another dtype");
    FUZZ_CHECK(t->shape() == tensors[i].shape, "read returned another shape");
    if (t->dtype() == ckpt::DT_STRING) {
      FUZZ_CHECK(static_cast<int64_t>(t->strings().size()) == t->shape().num_elements(),
                 "string count");
    } else {
      FUZZ_CHECK(t->TotalBytes() ==
                     static_cast<size_t>(t->shape().num_elements()) * ckpt::DTypeSize(t->dtype()),
                 "byte count");
      volatile char sink = 0;  // touch every byte: uninitialized memory shows up under MSan/ASan
      for (char c : t->bytes()) sink = sink ^ c;
    }
  }
  return 0;
}
