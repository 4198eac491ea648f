// Formatting shared by the command-line tools: one place for how sizes,
// shapes and dtypes look to a person.
#ifndef CKPT_TOOLS_COMMON_FORMAT_H_
#define CKPT_TOOLS_COMMON_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ckpt {
namespace tools {

// 1234567 -> "1.2 MiB"; below 1 KiB, "123 B".
std::string HumanBytes(uint64_t bytes);
// A name (tensor, key, path) as shown to a person: control bytes and DEL
// become \xNN, so that a hostile checkpoint cannot send escape sequences to
// the terminal. Other bytes (UTF-8 text) pass through.
std::string DisplayName(absl::string_view name);
// {2,3} -> "[2,3]".
std::string ShapeString(const std::vector<int64_t>& dims);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_FORMAT_H_
