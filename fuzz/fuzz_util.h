// Helpers shared by the fuzz targets.
#ifndef CKPT_FUZZ_FUZZ_UTIL_H_
#define CKPT_FUZZ_FUZZ_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"

// A property the library promises was broken: report it as a crash so that
// libFuzzer saves the input. (assert() would vanish under NDEBUG.)
#define FUZZ_CHECK(cond, what)                                                    \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, \
                   #cond, what);                                                  \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

namespace ckpt {
namespace fuzz {

inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
         (uint32_t{p[3]} << 24);
}
inline uint64_t Load64(const uint8_t* p) {
  return uint64_t{Load32(p)} | (uint64_t{Load32(p + 4)} << 32);
}

// Protobuf logs an error for every string field that is not UTF-8; on
// fuzzed input that is most inputs, and the writing dominates the run time.
inline void SilenceProtobufLogging() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace fuzz
}  // namespace ckpt

#endif  // CKPT_FUZZ_FUZZ_UTIL_H_
