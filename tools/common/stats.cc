#include "common/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/numeric.h"

namespace ckpt {
namespace tools {
namespace {

enum class Kind { kFinite, kNan, kInf };

struct Element {
  Kind kind;
  double value;  // the number, or a complex number's magnitude
};

Element Decode(const Tensor& t, int64_t i) {
  if (IsComplex(t.dtype())) {
    const double re = ComponentAsDouble(t, i, 0);
    const double im = ComponentAsDouble(t, i, 1);
    if (std::isnan(re) || std::isnan(im)) return {Kind::kNan, 0};
    if (std::isinf(re) || std::isinf(im)) return {Kind::kInf, 0};
    return {Kind::kFinite, std::hypot(re, im)};
  }
  const double v = ComponentAsDouble(t, i);
  if (std::isnan(v)) return {Kind::kNan, 0};
  if (std::isinf(v)) return {Kind::kInf, 0};
  return {Kind::kFinite, v};
}

}  // namespace

absl::StatusOr<TensorStats> ComputeStats(const Tensor& t, int bins) {
  if (bins < 0) return absl::InvalidArgumentError(absl::StrCat("histogram bins must be >= 0, got ", bins));
  if (t.dtype() == DT_STRING) {
    return absl::InvalidArgumentError("statistics need numbers; the tensor holds strings");
  }
  if (!t.valid() || !IsNumeric(t.dtype())) {
    return absl::UnimplementedError(
        absl::StrCat("no statistics for dtype ", DTypeName(t.dtype()), ": values do not decode to numbers"));
  }
  const int64_t n = t.NumElements();
  if (t.TotalBytes() < static_cast<size_t>(n) * DTypeSize(t.dtype())) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t.DebugString(), " lacks its values"));
  }

  TensorStats s;
  s.count = n;
  int64_t finite = 0;
  double mean = 0, m2 = 0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < n; ++i) {
    const Element e = Decode(t, i);
    if (e.kind == Kind::kNan) {
      ++s.nan;
      continue;
    }
    if (e.kind == Kind::kInf) {
      ++s.inf;
      continue;
    }
    if (e.value == 0) ++s.zeros;
    lo = std::min(lo, e.value);
    hi = std::max(hi, e.value);
    // Welford: stable where summing squares would cancel.
    ++finite;
    const double delta = e.value - mean;
    mean += delta / static_cast<double>(finite);
    m2 += delta * (e.value - mean);
  }
  if (finite == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    s.min = s.max = s.mean = s.std = nan;
    return s;
  }
  s.min = lo;
  s.max = hi;
  s.mean = mean;
  s.std = std::sqrt(m2 / static_cast<double>(finite));
  if (bins == 0) return s;

  // np.histogram's uniform-bin arithmetic, so counts match it at the edges.
  double first = lo, last = hi;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  std::vector<double> edges(bins + 1);
  const double step = (last - first) / bins;
  for (int b = 0; b < bins; ++b) edges[b] = b * step + first;
  edges[bins] = last;
  const double norm = bins / (last - first);
  s.histogram.assign(bins, 0);
  for (int64_t i = 0; i < n; ++i) {
    const Element e = Decode(t, i);
    if (e.kind != Kind::kFinite) continue;
    int b = static_cast<int>((e.value - first) * norm);
    b = std::min(std::max(b, 0), bins - 1);
    // The product may land one bin off within an ulp of an edge.
    if (b > 0 && e.value < edges[b]) --b;
    if (b < bins - 1 && e.value >= edges[b + 1]) ++b;
    ++s.histogram[b];
  }
  return s;
}

std::string Sparkline(const std::vector<int64_t>& histogram) {
  static const char* const kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  int64_t top = 0;
  for (int64_t c : histogram) top = std::max(top, c);
  std::string out;
  for (int64_t c : histogram) {
    if (c <= 0) {
      out += ' ';
      continue;
    }
    // Round up, so a non-empty bin never looks empty; computed in double so
    // huge counts cannot overflow.
    int level = static_cast<int>(std::ceil(static_cast<double>(c) * 8 / static_cast<double>(top)));
    level = std::min(std::max(level, 1), 8);
    out += kBlocks[level - 1];
  }
  return out;
}

}  // namespace tools
}  // namespace ckpt
