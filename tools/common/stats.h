// Summary statistics of a tensor's values, for `ckpt_dump --stats`.
//
//   absl::StatusOr<ckpt::tools::TensorStats> s = ckpt::tools::ComputeStats(t);
//   if (s.ok()) std::cout << s->mean << " " << ckpt::tools::Sparkline(s->histogram);
//
// Every numeric dtype is decoded through numeric.h: floats of every width,
// integers and bool as numbers (true = 1), complex values by their magnitude.
// NaN and infinite values are counted, and left out of everything else, so
// min/max/mean/std describe the finite values (std is the population
// standard deviation, as np.std). DT_STRING and the other non-numeric dtypes
// have no statistics.
//
// Thread-safe: the functions only read their arguments.
#ifndef CKPT_TOOLS_COMMON_STATS_H_
#define CKPT_TOOLS_COMMON_STATS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

constexpr int kDefaultHistogramBins = 20;

struct TensorStats {
  int64_t count = 0;  // elements (a complex element counts once)
  int64_t nan = 0;    // elements with a NaN (in either part, for complex)
  int64_t inf = 0;    // elements that are infinite and not NaN
  int64_t zeros = 0;  // elements equal to 0 (-0 included)
  // Over the count - nan - inf finite values; NaN when there are none.
  double min = 0;
  double max = 0;
  double mean = 0;
  double std = 0;
  // Counts of the finite values in equal-width bins from min to max, the
  // last bin closed, exactly as np.histogram(values, bins) (which widens a
  // zero-width range to [min - 0.5, max + 0.5], so that then every value
  // falls in the middle bin). Empty when there are no finite values.
  std::vector<int64_t> histogram;
};

// Reads every element twice: once for the counts, extremes and Welford's
// running mean and variance, once for the histogram. InvalidArgument for
// DT_STRING or a negative `bins` (0 gives no histogram); Unimplemented for
// dtypes that do not decode to numbers (variant, resource).
absl::StatusOr<TensorStats> ComputeStats(const Tensor& t, int bins = kDefaultHistogramBins);

// One character per bin from the eight blocks "▁▂▃▄▅▆▇█" (UTF-8), scaled so
// the largest bin is "█" and every non-empty bin shows at least "▁"; an empty
// bin is a space. "" for an empty histogram.
std::string Sparkline(const std::vector<int64_t>& histogram);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_STATS_H_
