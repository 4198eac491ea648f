// Comparing two checkpoints tensor by tensor: the logic behind ckpt_diff,
// kept apart from the command line so that tests can call it directly.
//
//   ckpt::tools::DiffOptions options;
//   options.tolerant = true;
//   options.atol = 1e-6;
//   absl::StatusOr<ckpt::tools::DiffReport> report =
//       ckpt::tools::DiffCheckpoints(*reader_a, *reader_b, options);
//   if (!report.ok()) return report.status();
//   std::cout << ckpt::tools::DiffText(*report, /*list_all=*/false);
//   return report->equal() ? 0 : 1;
//
// When two elements are equal:
//   - exact (the default, `tolerant` false): their bytes are identical, so a
//     NaN equals a NaN with the same bits and +0 differs from -0. With
//     `equal_nan`, any NaN also equals any other NaN.
//   - tolerant: NumPy's isclose: |a - b| <= atol + rtol * |b|. Infinities are
//     equal only to themselves, NaNs to nothing unless `equal_nan`. Complex
//     values use the modulus of the difference and of b (as NumPy does), so
//     both their real and imaginary parts count.
// Strings are equal when their bytes are. Tensors of dtypes this library
// cannot decode (variant, resource) are compared by the size and CRC32C of
// their stored bytes, as recorded in the index.
//
// Memory: DiffCheckpoints holds at most one tensor of each checkpoint at a
// time, as zero-copy views of the mapped data files where the reader can
// give them. Partitioned tensors are assembled and compared whole.
#ifndef CKPT_TOOLS_COMMON_DIFF_H_
#define CKPT_TOOLS_COMMON_DIFF_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

struct DiffOptions {
  // False: values must be bitwise equal and atol/rtol are ignored.
  bool tolerant = false;
  double atol = 0.0;
  double rtol = 0.0;
  bool equal_nan = false;
  // Compare names, dtypes and shapes only; read no tensor data.
  bool names_only = false;
  // fnmatch(3) patterns ('*' also matches '/'). A name is compared when it
  // matches some include (or there is none) and no exclude.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

// What happened to one tensor name. The order is the report's order: the
// categorical changes first, then value changes.
enum class DiffStatus {
  kDtypeChanged,     // shapes may differ too; values not compared
  kShapeChanged,     // same dtype; values not compared
  kOnlyInA,
  kOnlyInB,
  kValuesDiffer,     // some element is unequal under the options' rule
  kWithinTolerance,  // every element is equal under the rule, not all bitwise
  kIdentical,        // bitwise equal (with names_only: same dtype and shape)
};

enum class ValueKind {
  kNumeric,
  kString,
  kOpaque,  // not decodable: compared by stored size and checksum only
};

// The comparison of two tensors of the same dtype and shape.
struct ValueDiff {
  ValueKind kind = ValueKind::kNumeric;
  int64_t elements = 0;
  // Elements unequal under the rule (kOpaque: 1 when the stored bytes differ).
  int64_t differing = 0;
  // Elements whose bytes differ, including those within tolerance.
  int64_t bitwise_differing = 0;
  // Row-major position of the first unequal element; -1 when there is none.
  int64_t first_diff = -1;

  // kNumeric only. Differences are taken over the elements where both values
  // are finite; unequal pairs involving a NaN or an infinity are counted in
  // `nonfinite_differing` instead.
  int64_t nonfinite_differing = 0;
  double max_abs_diff = 0.0;  // max |a - b|
  double max_rel_diff = 0.0;  // max |a - b| / |b|; +inf when some b is 0
  double l2_diff = 0.0;       // ||a - b||_2
  double l2_a = 0.0;          // ||a||_2 over A's finite elements
};

struct TensorDiff {
  std::string name;
  DiffStatus status = DiffStatus::kIdentical;
  // DT_INVALID and an empty shape on the side where the name is absent.
  DType dtype_a = DT_INVALID;
  DType dtype_b = DT_INVALID;
  TensorShape shape_a;
  TensorShape shape_b;
  bool values_compared = false;
  ValueDiff values;  // meaningful when values_compared
};

struct DiffSummary {
  int64_t identical = 0;
  int64_t within_tolerance = 0;
  int64_t changed = 0;  // dtype, shape or value changes
  int64_t only_in_a = 0;
  int64_t only_in_b = 0;
};

struct DiffReport {
  std::string prefix_a;
  std::string prefix_b;
  DiffOptions options;
  // Every selected name, biggest change first (see SortByChange).
  std::vector<TensorDiff> tensors;

  DiffSummary Summary() const;
  // True when nothing is only on one side and nothing changed.
  bool equal() const;
};

// True when `name` passes options.include and options.exclude.
bool NameSelected(const std::string& name, const DiffOptions& options);

// Compares the values of two tensors. InvalidArgument unless they have the
// same dtype and shape, or for a dtype that cannot be decoded.
absl::StatusOr<ValueDiff> CompareValues(const Tensor& a, const Tensor& b,
                                        const DiffOptions& options);

// Compares every selected name of `a` and `b`. A tensor that cannot be read
// (a checksum mismatch, a missing data file) fails the whole comparison with
// a status naming the tensor and the checkpoint it came from.
absl::StatusOr<DiffReport> DiffCheckpoints(const BundleReader& a, const BundleReader& b,
                                           const DiffOptions& options);

// How big a value change is, for ordering: max |a - b| divided by the root
// mean square of A's finite values. +inf when some unequal pair involves a
// NaN or an infinity, or when A is all zeros and something changed; for
// strings, the fraction of elements that differ; for opaque tensors 1 when
// they differ. 0 when nothing differs.
double ChangeScore(const ValueDiff& values);

// Orders by status (the DiffStatus order), then, among value changes and
// within-tolerance tensors, by ChangeScore, then by number of unequal
// elements (largest first), then by name.
void SortByChange(std::vector<TensorDiff>* tensors);

// {3, 4} and 7 -> {1, 3}: the multi-dimensional position of a row-major
// flat index.
std::vector<int64_t> UnflattenIndex(const TensorShape& shape, int64_t flat);

// "12 identical, 3 changed, 1 only in A, 0 only in B"; with tolerances,
// "within tolerance" is counted too.
std::string SummaryLine(const DiffReport& report);

// The human report, readable at 80 columns: the two prefixes, one block per
// tensor that is not equal (every tensor when list_all), the summary line.
std::string DiffText(const DiffReport& report, bool list_all);

// One JSON document (and a newline):
// {
//   "a": prefix, "b": prefix,
//   "options": {"atol": x or null, "rtol": x or null, "equal_nan": bool,
//               "names_only": bool, "include": [glob], "exclude": [glob]},
//   "tensors": [{                      // every selected name, report order
//     "name": string,
//     "status": "dtype_changed" | "shape_changed" | "only_in_a" | "only_in_b"
//               | "values_differ" | "within_tolerance" | "identical",
//     "a": {"dtype": "float32", "shape": [2,3]} or null when absent,
//     "b": likewise,
//     "values": null when not compared, else
//       {"kind": "numeric", "elements", "differing", "bitwise_differing",
//        "nonfinite_differing", "first_diff_index": [i,j] or null,
//        "max_abs_diff", "max_rel_diff" (null when infinite), "l2_diff", "l2_a"}
//       {"kind": "string", "elements", "differing", "bitwise_differing",
//        "first_diff_index"}
//       {"kind": "opaque", "stored_bytes_equal": bool}
//   }],
//   "summary": {"identical", "within_tolerance", "changed", "only_in_a",
//               "only_in_b", "equal": bool}
// }
std::string DiffJson(const DiffReport& report);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_DIFF_H_
