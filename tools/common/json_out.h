// How every tool prints JSON: one document, indented, invalid UTF-8 in
// tensor names replaced rather than failing.
#ifndef CKPT_TOOLS_COMMON_JSON_OUT_H_
#define CKPT_TOOLS_COMMON_JSON_OUT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace ckpt {
namespace tools {

inline std::string JsonText(const nlohmann::ordered_json& doc) {
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_JSON_OUT_H_
