#include "ckpt/version.h"

namespace ckpt {

// Expanded here, not in the header, so that the string is the library's.
const char* Version() { return CKPT_VERSION_STRING; }

}  // namespace ckpt
