#include "ckpt/tensor_slice.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ckpt {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Strict decimal: an optional '-' then digits only (no spaces, no '+'), as
// TensorFlow's Python writes them. False on overflow.
bool ParseDecimal(absl::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  // Accumulating toward the negative side lets INT64_MIN parse too.
  int64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(value, 10, &value)) return false;
    if (__builtin_sub_overflow(value, c - '0', &value)) return false;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) return false;
    value = -value;
  }
  *out = value;
  return true;
}

// The rules every explicit or spanning extent obeys; `d` only names the
// dimension in the message.
absl::Status ValidateExtent(int d, int64_t start, int64_t length) {
  if (length == TensorSlice::kFullExtent) {
    if (start != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor slice: dimension ", d, " spans the whole dimension but has start ",
          start, " (must be 0)"));
    }
    return absl::OkStatus();
  }
  if (start < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice: dimension ", d, " has negative start ", start));
  }
  if (length <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice: dimension ", d, " has length ", length,
        " (must be positive, or -1 for the whole dimension)"));
  }
  if (start > kInt64Max - length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice: dimension ", d, " has start ", start, " + length ", length,
        " overflowing int64"));
  }
  return absl::OkStatus();
}

}  // namespace

TensorSlice::TensorSlice(int rank)
    : starts_(std::max(rank, 0), 0), lengths_(std::max(rank, 0), kFullExtent) {}

absl::StatusOr<TensorSlice> TensorSlice::FromExtents(
    const std::vector<std::pair<int64_t, int64_t>>& extents) {
  if (extents.size() > static_cast<size_t>(TensorShape::kMaxRank)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice: rank ", extents.size(), " exceeds ", TensorShape::kMaxRank));
  }
  TensorSlice slice;
  slice.starts_.reserve(extents.size());
  slice.lengths_.reserve(extents.size());
  for (size_t d = 0; d < extents.size(); ++d) {
    const auto& [start, length] = extents[d];
    absl::Status s = ValidateExtent(static_cast<int>(d), start, length);
    if (!s.ok()) return s;
    slice.starts_.push_back(start);
    slice.lengths_.push_back(length);
  }
  return slice;
}

absl::StatusOr<TensorSlice> TensorSlice::Parse(absl::string_view spec) {
  std::vector<std::pair<int64_t, int64_t>> extents;
  if (spec.empty()) return FromExtents(extents);
  for (absl::string_view item : absl::StrSplit(spec, ':')) {
    if (item == "-") {
      extents.emplace_back(0, kFullExtent);
      continue;
    }
    std::vector<absl::string_view> parts = absl::StrSplit(item, ',');
    int64_t start = 0;
    int64_t length = 0;
    if (parts.size() != 2 || !ParseDecimal(parts[0], &start) ||
        !ParseDecimal(parts[1], &length)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor slice spec \"", spec, "\": extent ", extents.size(), " is \"", item,
          "\", expected \"-\" or \"start,length\""));
    }
    // In the text form the whole dimension is spelled "-" only, so an explicit
    // length must be positive even where FromExtents would accept -1.
    if (length <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor slice spec \"", spec, "\": extent ", extents.size(), " has length ",
          length, " (must be positive)"));
    }
    extents.emplace_back(start, length);
  }
  absl::StatusOr<TensorSlice> slice = FromExtents(extents);
  if (!slice.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(slice.status().message(), " in spec \"", spec, "\""));
  }
  return slice;
}

absl::StatusOr<TensorSlice> TensorSlice::FromProto(
    const ::tensorflow::TensorSliceProto& proto) {
  if (proto.extent_size() > TensorShape::kMaxRank) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice: rank ", proto.extent_size(), " exceeds ", TensorShape::kMaxRank));
  }
  using Extent = ::tensorflow::TensorSliceProto::Extent;
  std::vector<std::pair<int64_t, int64_t>> extents;
  extents.reserve(proto.extent_size());
  for (const Extent& e : proto.extent()) {
    const bool has_length = e.has_length_case() == Extent::kLength;
    extents.emplace_back(e.start(), has_length ? e.length() : kFullExtent);
  }
  return FromExtents(extents);
}

void TensorSlice::ToProto(::tensorflow::TensorSliceProto* proto) const {
  proto->Clear();
  for (int d = 0; d < rank(); ++d) {
    auto* e = proto->add_extent();
    if (IsFullAt(d)) continue;
    // proto3 leaves a zero start off the wire by itself.
    e->set_start(starts_[d]);
    e->set_length(lengths_[d]);
  }
}

std::string TensorSlice::ToString() const {
  std::vector<std::string> items;
  items.reserve(starts_.size());
  for (int d = 0; d < rank(); ++d) {
    items.push_back(IsFullAt(d) ? std::string("-")
                                : absl::StrCat(starts_[d], ",", lengths_[d]));
  }
  return absl::StrJoin(items, ":");
}

bool TensorSlice::IsFull() const {
  return std::all_of(lengths_.begin(), lengths_.end(),
                     [](int64_t l) { return l == kFullExtent; });
}

absl::StatusOr<TensorShape> TensorSlice::SliceShape(const TensorShape& full_shape) const {
  if (!full_shape.valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor slice \"", ToString(), "\": invalid full shape ",
                     full_shape.DebugString()));
  }
  if (full_shape.rank() != rank()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor slice \"", ToString(), "\" has rank ", rank(), " but the tensor shape ",
        full_shape.DebugString(), " has rank ", full_shape.rank()));
  }
  std::vector<int64_t> dims(rank());
  for (int d = 0; d < rank(); ++d) {
    const int64_t size = full_shape.dim(d);
    if (IsFullAt(d)) {
      dims[d] = size;
      continue;
    }
    if (starts_[d] > size || lengths_[d] > size - starts_[d]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor slice \"", ToString(), "\": extent ", starts_[d], ",", lengths_[d],
          " of dimension ", d, " runs past its size ", size, " in shape ",
          full_shape.DebugString()));
    }
    dims[d] = lengths_[d];
  }
  return TensorShape::FromDims(dims);
}

// A failed intersection leaves *result untouched; `result` may be null when
// only the overlap test is wanted. Rank-0 slices overlap (a scalar).
bool TensorSlice::Intersect(const TensorSlice& other, TensorSlice* result) const {
  if (rank() != other.rank()) return false;
  TensorSlice out(rank());
  for (int d = 0; d < rank(); ++d) {
    if (IsFullAt(d)) {
      out.starts_[d] = other.starts_[d];
      out.lengths_[d] = other.lengths_[d];
    } else if (other.IsFullAt(d)) {
      out.starts_[d] = starts_[d];
      out.lengths_[d] = lengths_[d];
    } else {
      // Ends cannot overflow: every extent was validated on construction.
      const int64_t begin = std::max(starts_[d], other.starts_[d]);
      const int64_t end = std::min(starts_[d] + lengths_[d],
                                   other.starts_[d] + other.lengths_[d]);
      if (end <= begin) return false;
      out.starts_[d] = begin;
      out.lengths_[d] = end - begin;
    }
  }
  if (result != nullptr) *result = std::move(out);
  return true;
}

// With a rank mismatch the slice is returned unchanged. A spanning extent of
// a zero-sized dimension stays spanning, since an explicit length must be
// positive.
TensorSlice TensorSlice::Resolved(const TensorShape& full_shape) const {
  TensorSlice out = *this;
  if (full_shape.rank() != rank()) return out;
  for (int d = 0; d < rank(); ++d) {
    if (IsFullAt(d) && full_shape.dim(d) > 0) {
      out.starts_[d] = 0;
      out.lengths_[d] = full_shape.dim(d);
    }
  }
  return out;
}

// False for a rank mismatch or an invalid shape; an explicit extent never
// covers a zero-sized dimension because it would run past it.
bool TensorSlice::CoversAll(const TensorShape& full_shape) const {
  if (!full_shape.valid() || full_shape.rank() != rank()) return false;
  for (int d = 0; d < rank(); ++d) {
    if (IsFullAt(d)) continue;
    if (starts_[d] != 0 || lengths_[d] != full_shape.dim(d)) return false;
  }
  return true;
}

// An empty string yields a scalar shape and a rank-0 slice: callers that need
// to tell "whole tensor" apart test for the empty string, as SaveV2 does; a
// real spec always has at least one dimension.
absl::Status ParseShapeAndSlice(absl::string_view shape_and_slice,
                                TensorShape* full_shape, TensorSlice* slice) {
  if (shape_and_slice.empty()) {
    *full_shape = TensorShape();
    *slice = TensorSlice();
    return absl::OkStatus();
  }
  std::vector<absl::string_view> parts = absl::StrSplit(shape_and_slice, ' ');
  if (parts.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape_and_slice \"", shape_and_slice,
        "\": expected the dimensions and a slice spec separated by spaces"));
  }
  std::vector<int64_t> dims;
  dims.reserve(parts.size() - 1);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int64_t dim = 0;
    if (!ParseDecimal(parts[i], &dim) || dim < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape_and_slice \"", shape_and_slice, "\": dimension ", i, " is \"", parts[i],
          "\", expected a non-negative integer"));
    }
    dims.push_back(dim);
  }
  absl::StatusOr<TensorShape> shape = TensorShape::FromDims(dims);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape_and_slice \"", shape_and_slice, "\": ", shape.status().message()));
  }
  absl::StatusOr<TensorSlice> parsed = TensorSlice::Parse(parts.back());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape_and_slice \"", shape_and_slice, "\": ", parsed.status().message()));
  }
  absl::StatusOr<TensorShape> sliced = parsed->SliceShape(*shape);
  if (!sliced.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape_and_slice \"", shape_and_slice, "\": ", sliced.status().message()));
  }
  *full_shape = *std::move(shape);
  *slice = *std::move(parsed);
  return absl::OkStatus();
}

}  // namespace ckpt
