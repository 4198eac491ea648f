#include "common/diff.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ckpt/status_macros.h"
#include "common/format.h"
#include "common/numeric.h"

namespace ckpt {
namespace tools {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The 2-norm as LAPACK's dnrm2 computes it, with a running scale, so that
// squares of huge values do not overflow nor squares of tiny ones vanish.
class Norm2 {
 public:
  void Add(double x) {
    if (x == 0.0 || !std::isfinite(x)) return;
    x = std::fabs(x);
    if (scale_ < x) {
      const double r = scale_ / x;
      ssq_ = 1.0 + ssq_ * r * r;
      scale_ = x;
    } else {
      const double r = x / scale_;
      ssq_ += r * r;
    }
  }
  double Value() const { return scale_ * std::sqrt(ssq_); }

 private:
  double scale_ = 0.0;
  double ssq_ = 1.0;
};

// Applies the equality rule of diff.h to one element at a time and gathers
// the statistics. Elements arrive as `components` doubles each (2 for
// complex); integers also pass their exact |a - b|, which doubles cannot
// carry beyond 2^53.
class NumericComparer {
 public:
  NumericComparer(const DiffOptions& options, int components, ValueDiff* out)
      : options_(options), components_(components), out_(out) {}

  void Visit(int64_t i, bool bits_equal, const double* a, const double* b,
             double exact_abs = -1.0) {
    bool a_finite = true, b_finite = true, a_nan = false, b_nan = false;
    for (int c = 0; c < components_; ++c) {
      if (std::isfinite(a[c])) {
        norm_a_.Add(a[c]);
      } else {
        a_finite = false;
        a_nan |= std::isnan(a[c]);
      }
      if (!std::isfinite(b[c])) {
        b_finite = false;
        b_nan |= std::isnan(b[c]);
      }
    }
    if (bits_equal) return;
    ++out_->bitwise_differing;
    bool equal;
    if (a_finite && b_finite) {
      double d, mag_b;
      if (components_ == 1) {
        d = exact_abs >= 0.0 ? exact_abs : std::fabs(a[0] - b[0]);
        mag_b = std::fabs(b[0]);
        norm_diff_.Add(d);
      } else {
        d = std::hypot(a[0] - b[0], a[1] - b[1]);
        mag_b = std::hypot(b[0], b[1]);
        norm_diff_.Add(a[0] - b[0]);
        norm_diff_.Add(a[1] - b[1]);
      }
      out_->max_abs_diff = std::max(out_->max_abs_diff, d);
      if (d > 0.0) out_->max_rel_diff = std::max(out_->max_rel_diff, mag_b > 0.0 ? d / mag_b : kInf);
      equal = options_.tolerant && d <= options_.atol + options_.rtol * mag_b;
    } else {
      if (a_nan || b_nan) {
        equal = options_.equal_nan && a_nan && b_nan;
      } else {
        // Infinities: equal only to the same infinity, and only when values
        // (not bits) are compared.
        equal = options_.tolerant;
        for (int c = 0; c < components_; ++c) equal &= a[c] == b[c];
      }
      if (!equal) ++out_->nonfinite_differing;
    }
    if (!equal) {
      if (out_->differing == 0) out_->first_diff = i;
      ++out_->differing;
    }
  }

  // A run of elements whose bytes are equal in A and B contributes only to
  // A's norm; `sum_squares` is the sum of its finite components' squares.
  // Adding sqrt(S) to a 2-norm adds exactly S to its square.
  void AddEqualRun(double sum_squares) { norm_a_.Add(std::sqrt(sum_squares)); }

  void Finish() {
    out_->l2_diff = norm_diff_.Value();
    out_->l2_a = norm_a_.Value();
  }

 private:
  const DiffOptions& options_;
  const int components_;
  ValueDiff* out_;
  Norm2 norm_a_;
  Norm2 norm_diff_;
};

// float, double and their complex forms: the common case, read directly.
// Checkpoints compared are mostly equal, so runs of equal bytes are found
// with memcmp and only need A's sum of squares; element-wise work is done
// where the bytes differ.
template <typename T, int kComponents>
void ScanFloat(const Tensor& a, const Tensor& b, NumericComparer* cmp) {
  constexpr size_t kWidth = sizeof(T) * kComponents;
  constexpr int64_t kRun = 1024;
  const char* base_a = a.raw_data();
  const char* base_b = b.raw_data();
  const int64_t n = a.NumElements();
  auto visit = [&](int64_t i) {
    const char* pa = base_a + i * kWidth;
    const char* pb = base_b + i * kWidth;
    T va[kComponents], vb[kComponents];
    std::memcpy(va, pa, kWidth);
    std::memcpy(vb, pb, kWidth);
    double da[kComponents], db[kComponents];
    for (int c = 0; c < kComponents; ++c) {
      da[c] = va[c];
      db[c] = vb[c];
    }
    cmp->Visit(i, std::memcmp(pa, pb, kWidth) == 0, da, db);
  };
  for (int64_t start = 0; start < n; start += kRun) {
    const int64_t len = std::min(kRun, n - start);
    if (std::memcmp(base_a + start * kWidth, base_b + start * kWidth, len * kWidth) != 0) {
      for (int64_t i = start; i < start + len; ++i) visit(i);
      continue;
    }
    double sum = 0.0;
    const int64_t values = len * kComponents;
    const char* p = base_a + start * kWidth;
    for (int64_t k = 0; k < values; ++k) {
      T v;
      std::memcpy(&v, p + k * sizeof(T), sizeof(T));
      const double x = static_cast<double>(v);
      sum += std::isfinite(x) ? x * x : 0.0;
    }
    // float squares cannot overflow or vanish in double; for doubles, fall
    // back to the scaled norm when the plain sum left the safe range.
    if (sizeof(T) == 4 || sum == 0.0 || (std::isfinite(sum) && sum > 1e-290 && sum < 1e290)) {
      cmp->AddEqualRun(sum);
    } else {
      for (int64_t i = start; i < start + len; ++i) visit(i);
    }
  }
}

// Integer-like dtypes compare by value: the unused high bits of the sub-byte
// types' bytes carry nothing.
void ScanIntegral(const Tensor& a, const Tensor& b, NumericComparer* cmp) {
  const bool is_unsigned64 = a.dtype() == DT_UINT64;
  const int64_t n = a.NumElements();
  for (int64_t i = 0; i < n; ++i) {
    const __int128 va = is_unsigned64 ? static_cast<__int128>(UnsignedValue(a, i))
                                      : static_cast<__int128>(IntegralValue(a, i));
    const __int128 vb = is_unsigned64 ? static_cast<__int128>(UnsignedValue(b, i))
                                      : static_cast<__int128>(IntegralValue(b, i));
    const double da = static_cast<double>(va), db = static_cast<double>(vb);
    cmp->Visit(i, va == vb, &da, &db, static_cast<double>(va > vb ? va - vb : vb - va));
  }
}

// The narrow floats (half, bfloat16, float8, float4) through the shared
// decoders; equality is on the element's bits.
void ScanNarrowFloat(const Tensor& a, const Tensor& b, NumericComparer* cmp) {
  const size_t width = DTypeSize(a.dtype());
  // float4 keeps its 4 bits in the low half of a byte.
  const unsigned mask = a.dtype() == DT_FLOAT4_E2M1FN ? 0x0f : 0xff;
  const char* pa = a.raw_data();
  const char* pb = b.raw_data();
  const int64_t n = a.NumElements();
  for (int64_t i = 0; i < n; ++i) {
    bool bits_equal = true;
    for (size_t k = 0; k < width; ++k) {
      const unsigned x = static_cast<unsigned char>(pa[i * width + k]);
      const unsigned y = static_cast<unsigned char>(pb[i * width + k]);
      bits_equal &= ((x ^ y) & mask) == 0;
    }
    const double da = ComponentAsDouble(a, i), db = ComponentAsDouble(b, i);
    cmp->Visit(i, bits_equal, &da, &db);
  }
}

ValueDiff CompareStrings(const Tensor& a, const Tensor& b) {
  ValueDiff out;
  out.kind = ValueKind::kString;
  out.elements = a.NumElements();
  const std::vector<std::string>& sa = a.strings();
  const std::vector<std::string>& sb = b.strings();
  const size_t n = std::min(sa.size(), sb.size());
  for (size_t i = 0; i < n; ++i) {
    if (sa[i] == sb[i]) continue;
    if (out.differing == 0) out.first_diff = static_cast<int64_t>(i);
    ++out.differing;
  }
  out.bitwise_differing = out.differing;
  return out;
}

// Where the stored bytes of a tensor the library cannot decode live, and
// their checksums: equal fingerprints mean equal bytes (up to CRC32C).
absl::StatusOr<std::vector<std::string>> StoredFingerprint(const BundleReader& reader,
                                                           const BundleEntryInfo& e) {
  if (e.slices.empty()) return std::vector<std::string>{absl::StrCat(e.size, ":", e.crc32c)};
  std::vector<std::string> out;
  for (const TensorSlice& s : e.slices) {
    CKPT_ASSIGN_OR_RETURN(BundleEntryInfo part, reader.GetSliceEntry(e.name, s));
    out.push_back(absl::StrCat(s.ToString(), ":", part.size, ":", part.crc32c));
  }
  return out;
}

absl::Status NameTensor(const absl::Status& s, const std::string& name, const char* side,
                        const std::string& prefix) {
  return absl::Status(s.code(), absl::StrCat("cannot compare tensor '", name, "': reading ",
                                             side, " (", prefix, "): ", s.message()));
}

absl::Status CompareEntries(const BundleReader& a, const BundleReader& b,
                            const BundleEntryInfo& ea, const BundleEntryInfo& eb,
                            const DiffOptions& options, TensorDiff* d) {
  if (ea.dtype != eb.dtype) {
    d->status = DiffStatus::kDtypeChanged;
    return absl::OkStatus();
  }
  if (ea.shape != eb.shape) {
    d->status = DiffStatus::kShapeChanged;
    return absl::OkStatus();
  }
  if (options.names_only) {
    d->status = DiffStatus::kIdentical;
    return absl::OkStatus();
  }
  d->values_compared = true;
  if (ea.dtype != DT_STRING && !IsNumeric(ea.dtype)) {
    absl::StatusOr<std::vector<std::string>> fa = StoredFingerprint(a, ea);
    if (!fa.ok()) return NameTensor(fa.status(), ea.name, "A", a.prefix());
    absl::StatusOr<std::vector<std::string>> fb = StoredFingerprint(b, eb);
    if (!fb.ok()) return NameTensor(fb.status(), eb.name, "B", b.prefix());
    d->values.kind = ValueKind::kOpaque;
    d->values.elements = ea.shape.num_elements();
    d->values.differing = d->values.bitwise_differing = *fa == *fb ? 0 : 1;
  } else {
    // Scoped so that each tensor (or its mapping) is released before the
    // next name is read.
    absl::StatusOr<Tensor> ta = a.ReadView(ea.name);
    if (!ta.ok()) return NameTensor(ta.status(), ea.name, "A", a.prefix());
    absl::StatusOr<Tensor> tb = b.ReadView(eb.name);
    if (!tb.ok()) return NameTensor(tb.status(), eb.name, "B", b.prefix());
    absl::StatusOr<ValueDiff> v = CompareValues(*ta, *tb, options);
    if (!v.ok()) return NameTensor(v.status(), ea.name, "both", a.prefix());
    d->values = *v;
  }
  if (d->values.differing > 0) {
    d->status = DiffStatus::kValuesDiffer;
  } else if (d->values.bitwise_differing > 0) {
    d->status = DiffStatus::kWithinTolerance;
  } else {
    d->status = DiffStatus::kIdentical;
  }
  return absl::OkStatus();
}

const char* StatusLabel(DiffStatus s) {
  switch (s) {
    case DiffStatus::kDtypeChanged: return "dtype";
    case DiffStatus::kShapeChanged: return "shape";
    case DiffStatus::kOnlyInA: return "only in A";
    case DiffStatus::kOnlyInB: return "only in B";
    case DiffStatus::kValuesDiffer: return "changed";
    case DiffStatus::kWithinTolerance: return "close";
    case DiffStatus::kIdentical: return "identical";
  }
  return "?";
}

const char* StatusJsonName(DiffStatus s) {
  switch (s) {
    case DiffStatus::kDtypeChanged: return "dtype_changed";
    case DiffStatus::kShapeChanged: return "shape_changed";
    case DiffStatus::kOnlyInA: return "only_in_a";
    case DiffStatus::kOnlyInB: return "only_in_b";
    case DiffStatus::kValuesDiffer: return "values_differ";
    case DiffStatus::kWithinTolerance: return "within_tolerance";
    case DiffStatus::kIdentical: return "identical";
  }
  return "?";
}

std::string TypeString(DType dtype, const TensorShape& shape) {
  return DTypeName(dtype) + shape.DebugString();
}

std::string TypeColumn(const TensorDiff& d) {
  switch (d.status) {
    case DiffStatus::kOnlyInA: return TypeString(d.dtype_a, d.shape_a);
    case DiffStatus::kOnlyInB: return TypeString(d.dtype_b, d.shape_b);
    case DiffStatus::kDtypeChanged:
    case DiffStatus::kShapeChanged:
      return TypeString(d.dtype_a, d.shape_a) + " -> " + TypeString(d.dtype_b, d.shape_b);
    default: return TypeString(d.dtype_a, d.shape_a);
  }
}

// "16.7%", never "0%" or "100%" for a part that is neither none nor all.
std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "";
  if (part == whole) return "100%";
  const double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  if (p < 0.01) return "<0.01%";
  if (p > 99.99) return ">99.99%";
  return absl::StrFormat("%.3g%%", p);
}

std::string IndexString(const TensorShape& shape, int64_t flat) {
  return ShapeString(UnflattenIndex(shape, flat));
}

std::vector<std::string> DetailLines(const TensorDiff& d) {
  std::vector<std::string> lines;
  if (!d.values_compared) return lines;
  const ValueDiff& v = d.values;
  switch (v.kind) {
    case ValueKind::kOpaque:
      if (v.differing > 0) {
        lines.push_back(absl::StrCat("stored bytes differ (", DTypeName(d.dtype_a),
                                     " is compared by checksum only)"));
      }
      return lines;
    case ValueKind::kString:
      if (v.differing > 0) {
        lines.push_back(absl::StrCat(v.differing, " of ", v.elements, " strings differ (",
                                     Percent(v.differing, v.elements), "), first at ",
                                     IndexString(d.shape_a, v.first_diff)));
      }
      return lines;
    case ValueKind::kNumeric:
      break;
  }
  if (v.bitwise_differing == 0) return lines;
  if (v.differing > 0) {
    lines.push_back(absl::StrCat(v.differing, " of ", v.elements, " elements differ (",
                                 Percent(v.differing, v.elements), "), first at ",
                                 IndexString(d.shape_a, v.first_diff)));
    if (v.nonfinite_differing > 0) {
      lines.push_back(absl::StrCat(v.nonfinite_differing, " of them involve NaN or Inf"));
    }
  } else {
    lines.push_back(absl::StrCat(v.bitwise_differing, " of ", v.elements,
                                 " elements differ, all within tolerance"));
  }
  if (v.bitwise_differing > v.nonfinite_differing) {
    lines.push_back(absl::StrFormat("max abs diff %.9g, max rel diff %.9g", v.max_abs_diff,
                                    v.max_rel_diff));
    lines.push_back(absl::StrFormat("L2 norm of A-B %.9g, of A %.9g", v.l2_diff, v.l2_a));
  }
  return lines;
}

// JSON has no infinity or NaN; null stands for them.
nlohmann::ordered_json Number(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

nlohmann::ordered_json Side(DType dtype, const TensorShape& shape) {
  if (dtype == DT_INVALID) return nullptr;
  nlohmann::ordered_json j;
  j["dtype"] = DTypeName(dtype);
  j["shape"] = shape.dims();
  return j;
}

nlohmann::ordered_json FirstIndex(const TensorDiff& d) {
  if (d.values.first_diff < 0) return nullptr;
  return UnflattenIndex(d.shape_a, d.values.first_diff);
}

nlohmann::ordered_json ValuesJson(const TensorDiff& d) {
  if (!d.values_compared) return nullptr;
  const ValueDiff& v = d.values;
  nlohmann::ordered_json j;
  switch (v.kind) {
    case ValueKind::kOpaque:
      j["kind"] = "opaque";
      j["stored_bytes_equal"] = v.differing == 0;
      return j;
    case ValueKind::kString:
      j["kind"] = "string";
      j["elements"] = v.elements;
      j["differing"] = v.differing;
      j["bitwise_differing"] = v.bitwise_differing;
      j["first_diff_index"] = FirstIndex(d);
      return j;
    case ValueKind::kNumeric:
      break;
  }
  j["kind"] = "numeric";
  j["elements"] = v.elements;
  j["differing"] = v.differing;
  j["bitwise_differing"] = v.bitwise_differing;
  j["nonfinite_differing"] = v.nonfinite_differing;
  j["first_diff_index"] = FirstIndex(d);
  j["max_abs_diff"] = Number(v.max_abs_diff);
  j["max_rel_diff"] = Number(v.max_rel_diff);
  j["l2_diff"] = Number(v.l2_diff);
  j["l2_a"] = Number(v.l2_a);
  return j;
}

}  // namespace

bool NameSelected(const std::string& name, const DiffOptions& options) {
  auto matches = [&name](const std::string& glob) {
    return ::fnmatch(glob.c_str(), name.c_str(), 0) == 0;
  };
  if (!options.include.empty() &&
      std::none_of(options.include.begin(), options.include.end(), matches)) {
    return false;
  }
  return std::none_of(options.exclude.begin(), options.exclude.end(), matches);
}

absl::StatusOr<ValueDiff> CompareValues(const Tensor& a, const Tensor& b,
                                        const DiffOptions& options) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot compare values of ", a.DebugString(),
                                                   " and ", b.DebugString()));
  }
  if (a.dtype() == DT_STRING) return CompareStrings(a, b);
  if (!IsNumeric(a.dtype())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot compare values of dtype ", DTypeName(a.dtype())));
  }
  const size_t expected = static_cast<size_t>(a.NumElements()) * DTypeSize(a.dtype());
  if (a.TotalBytes() != expected || b.TotalBytes() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("tensor buffers do not match ",
                                                   a.DebugString()));
  }
  ValueDiff out;
  out.kind = ValueKind::kNumeric;
  out.elements = a.NumElements();
  NumericComparer cmp(options, Components(a.dtype()), &out);
  switch (a.dtype()) {
    case DT_FLOAT: ScanFloat<float, 1>(a, b, &cmp); break;
    case DT_DOUBLE: ScanFloat<double, 1>(a, b, &cmp); break;
    case DT_COMPLEX64: ScanFloat<float, 2>(a, b, &cmp); break;
    case DT_COMPLEX128: ScanFloat<double, 2>(a, b, &cmp); break;
    default:
      if (IsIntegral(a.dtype())) {
        ScanIntegral(a, b, &cmp);
      } else {
        ScanNarrowFloat(a, b, &cmp);
      }
  }
  cmp.Finish();
  return out;
}

absl::StatusOr<DiffReport> DiffCheckpoints(const BundleReader& a, const BundleReader& b,
                                           const DiffOptions& options) {
  DiffReport report;
  report.prefix_a = a.prefix();
  report.prefix_b = b.prefix();
  report.options = options;
  // Both entry lists are sorted by name: walk them together.
  const std::vector<BundleEntryInfo>& ea = a.entries();
  const std::vector<BundleEntryInfo>& eb = b.entries();
  size_t i = 0, j = 0;
  while (i < ea.size() || j < eb.size()) {
    const BundleEntryInfo* in_a = nullptr;
    const BundleEntryInfo* in_b = nullptr;
    if (j == eb.size() || (i < ea.size() && ea[i].name < eb[j].name)) {
      in_a = &ea[i++];
    } else if (i == ea.size() || eb[j].name < ea[i].name) {
      in_b = &eb[j++];
    } else {
      in_a = &ea[i++];
      in_b = &eb[j++];
    }
    const std::string& name = in_a != nullptr ? in_a->name : in_b->name;
    if (!NameSelected(name, options)) continue;
    TensorDiff d;
    d.name = name;
    if (in_a != nullptr) {
      d.dtype_a = in_a->dtype;
      d.shape_a = in_a->shape;
    }
    if (in_b != nullptr) {
      d.dtype_b = in_b->dtype;
      d.shape_b = in_b->shape;
    }
    if (in_b == nullptr) {
      d.status = DiffStatus::kOnlyInA;
    } else if (in_a == nullptr) {
      d.status = DiffStatus::kOnlyInB;
    } else {
      CKPT_RETURN_IF_ERROR(CompareEntries(a, b, *in_a, *in_b, options, &d));
    }
    report.tensors.push_back(std::move(d));
  }
  SortByChange(&report.tensors);
  return report;
}

double ChangeScore(const ValueDiff& v) {
  if (v.bitwise_differing == 0) return 0.0;
  switch (v.kind) {
    case ValueKind::kOpaque: return v.differing > 0 ? 1.0 : 0.0;
    case ValueKind::kString:
      return v.elements > 0 ? static_cast<double>(v.differing) / static_cast<double>(v.elements)
                            : 0.0;
    case ValueKind::kNumeric: break;
  }
  if (v.nonfinite_differing > 0) return kInf;
  if (v.max_abs_diff == 0.0) return 0.0;
  const double rms = v.l2_a / std::sqrt(static_cast<double>(v.elements));
  const double score = rms > 0.0 ? v.max_abs_diff / rms : kInf;
  // inf / inf (values near the double range's end) must still sort.
  return std::isnan(score) ? kInf : score;
}

void SortByChange(std::vector<TensorDiff>* tensors) {
  std::sort(tensors->begin(), tensors->end(), [](const TensorDiff& x, const TensorDiff& y) {
    if (x.status != y.status) return x.status < y.status;
    if (x.values_compared && y.values_compared) {
      const double sx = ChangeScore(x.values), sy = ChangeScore(y.values);
      if (sx != sy) return sx > sy;
      const int64_t cx = std::max(x.values.differing, x.values.bitwise_differing);
      const int64_t cy = std::max(y.values.differing, y.values.bitwise_differing);
      if (cx != cy) return cx > cy;
    }
    return x.name < y.name;
  });
}

std::vector<int64_t> UnflattenIndex(const TensorShape& shape, int64_t flat) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()), 0);
  for (int k = shape.rank() - 1; k >= 0; --k) {
    const int64_t dim = shape.dim(k);
    if (dim <= 0) break;
    index[static_cast<size_t>(k)] = flat % dim;
    flat /= dim;
  }
  return index;
}

DiffSummary DiffReport::Summary() const {
  DiffSummary s;
  for (const TensorDiff& d : tensors) {
    switch (d.status) {
      case DiffStatus::kIdentical: ++s.identical; break;
      case DiffStatus::kWithinTolerance: ++s.within_tolerance; break;
      case DiffStatus::kOnlyInA: ++s.only_in_a; break;
      case DiffStatus::kOnlyInB: ++s.only_in_b; break;
      default: ++s.changed; break;
    }
  }
  return s;
}

bool DiffReport::equal() const {
  const DiffSummary s = Summary();
  return s.changed == 0 && s.only_in_a == 0 && s.only_in_b == 0;
}

std::string SummaryLine(const DiffReport& report) {
  const DiffSummary s = report.Summary();
  std::string out = absl::StrCat(s.identical, " identical, ");
  if (report.options.tolerant && !report.options.names_only) {
    absl::StrAppend(&out, s.within_tolerance, " within tolerance, ");
  }
  absl::StrAppend(&out, s.changed, " changed, ", s.only_in_a, " only in A, ", s.only_in_b,
                  " only in B");
  if (report.options.names_only) absl::StrAppend(&out, " (names, dtypes and shapes only)");
  return out;
}

std::string DiffText(const DiffReport& report, bool list_all) {
  constexpr size_t kLabelWidth = 11;  // "only in A" and two spaces
  constexpr size_t kLineWidth = 80;
  constexpr size_t kMinNameWidth = 20;
  std::vector<const TensorDiff*> shown;
  for (const TensorDiff& d : report.tensors) {
    const bool equal =
        d.status == DiffStatus::kIdentical || d.status == DiffStatus::kWithinTolerance;
    if (list_all || !equal) shown.push_back(&d);
  }
  // The name column is as wide as the longest name, unless that would push
  // the types past 80 columns; longer names then get a row of their own.
  size_t type_width = 0;
  for (const TensorDiff* d : shown) type_width = std::max(type_width, TypeColumn(*d).size());
  const size_t room = kLineWidth > kLabelWidth + 2 + type_width
                          ? kLineWidth - kLabelWidth - 2 - type_width
                          : 0;
  const size_t name_limit = std::max(room, kMinNameWidth);
  size_t name_width = 1;
  for (const TensorDiff* d : shown) {
    if (DisplayName(d->name).size() <= name_limit) name_width = std::max(name_width, DisplayName(d->name).size());
  }

  std::string out = absl::StrCat("A: ", report.prefix_a, "\nB: ", report.prefix_b, "\n");
  if (!shown.empty()) out += "\n";
  const std::string indent(kLabelWidth, ' ');
  for (const TensorDiff* d : shown) {
    const std::string type = TypeColumn(*d);
    absl::StrAppend(&out, absl::StrFormat("%-*s", kLabelWidth, StatusLabel(d->status)), DisplayName(d->name));
    if (DisplayName(d->name).size() <= name_width) {
      absl::StrAppend(&out, std::string(name_width - DisplayName(d->name).size() + 2, ' '), type, "\n");
    } else {
      const size_t column = kLabelWidth + name_width + 2;
      const size_t pad = column + type.size() <= kLineWidth ? column : kLabelWidth;
      absl::StrAppend(&out, "\n", std::string(pad, ' '), type, "\n");
    }
    for (const std::string& detail : DetailLines(*d)) absl::StrAppend(&out, indent, detail, "\n");
  }
  absl::StrAppend(&out, "\n", SummaryLine(report), "\n");
  return out;
}

std::string DiffJson(const DiffReport& report) {
  const DiffOptions& o = report.options;
  nlohmann::ordered_json doc;
  doc["a"] = report.prefix_a;
  doc["b"] = report.prefix_b;
  nlohmann::ordered_json options;
  options["atol"] = o.tolerant ? Number(o.atol) : nullptr;
  options["rtol"] = o.tolerant ? Number(o.rtol) : nullptr;
  options["equal_nan"] = o.equal_nan;
  options["names_only"] = o.names_only;
  options["include"] = o.include;
  options["exclude"] = o.exclude;
  doc["options"] = options;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const TensorDiff& d : report.tensors) {
    nlohmann::ordered_json t;
    t["name"] = d.name;
    t["status"] = StatusJsonName(d.status);
    t["a"] = Side(d.dtype_a, d.shape_a);
    t["b"] = Side(d.dtype_b, d.shape_b);
    t["values"] = ValuesJson(d);
    tensors.push_back(t);
  }
  doc["tensors"] = tensors;
  const DiffSummary s = report.Summary();
  doc["summary"] = {{"identical", s.identical},
                    {"within_tolerance", s.within_tolerance},
                    {"changed", s.changed},
                    {"only_in_a", s.only_in_a},
                    {"only_in_b", s.only_in_b},
                    {"equal", report.equal()}};
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace tools
}  // namespace ckpt
