// How every tool prints JSON: one document, indented, invalid UTF-8 in
// tensor names replaced rather than failing; and how tensor values and
// non-finite numbers are spelled in it.
#ifndef CKPT_TOOLS_COMMON_JSON_OUT_H_
#define CKPT_TOOLS_COMMON_JSON_OUT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

inline std::string JsonText(const nlohmann::ordered_json& doc) {
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// JSON has no NaN or infinity: they are spelled as JavaScript does, in
// strings ("NaN", "Infinity", "-Infinity").
nlohmann::ordered_json JsonNumber(double v);

// The first `limit` elements (all when negative), flattened: numbers
// (complex as [re, im]), strings as text, bools as bools; null for dtypes
// whose values cannot be shown (variant, resource).
nlohmann::ordered_json JsonValues(const Tensor& t, int64_t limit = -1);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_JSON_OUT_H_
