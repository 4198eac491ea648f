#include "common/json_out.h"

#include <algorithm>
#include <cmath>

#include "common/numeric.h"

namespace ckpt {
namespace tools {

nlohmann::ordered_json JsonNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

nlohmann::ordered_json JsonValues(const Tensor& t, int64_t limit) {
  if (t.dtype() != DT_STRING && !IsNumeric(t.dtype())) return nullptr;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  const int64_t n = std::min<int64_t>(t.NumElements(), limit < 0 ? t.NumElements() : limit);
  for (int64_t i = 0; i < n; ++i) {
    if (t.dtype() == DT_STRING) {
      out.push_back(t.strings()[i]);
    } else if (t.dtype() == DT_BOOL) {
      out.push_back(IntegralValue(t, i) != 0);
    } else if (IsComplex(t.dtype())) {
      out.push_back({JsonNumber(ComponentAsDouble(t, i, 0)), JsonNumber(ComponentAsDouble(t, i, 1))});
    } else if (t.dtype() == DT_UINT64) {
      out.push_back(UnsignedValue(t, i));
    } else if (IsIntegral(t.dtype())) {
      out.push_back(IntegralValue(t, i));
    } else {
      out.push_back(JsonNumber(ComponentAsDouble(t, i)));
    }
  }
  return out;
}

}  // namespace tools
}  // namespace ckpt
