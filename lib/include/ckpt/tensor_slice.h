// ckpt/tensor_slice.h — a rectangular part of a tensor (partitioned variables).
//
// Each dimension has a start and a length; a length of kFullExtent means "the
// whole dimension", whatever its size.
//
//   // rows 2..5 (4 rows) and every column of an [8, 6] variable
//   CKPT_ASSIGN_OR_RETURN(ckpt::TensorSlice s, ckpt::TensorSlice::Parse("2,4:-"));
//   std::string spec = s.ToString();                              // "2,4:-"
//   CKPT_ASSIGN_OR_RETURN(ckpt::TensorShape shape,
//                         s.SliceShape(ckpt::TensorShape({8, 6})));   // [4,6]
//
// `shape_and_slice` strings (SaveV2/RestoreV2's spelling) put the full shape
// first: "8 6 2,4:-"; an empty string means the whole tensor.
#ifndef CKPT_TENSOR_SLICE_H_
#define CKPT_TENSOR_SLICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/tensor_shape.h"
#include "tensor_slice.pb.h"

namespace ckpt {

class TensorSlice {
 public:
  static constexpr int64_t kFullExtent = -1;

  // Rank 0 slice (of a scalar).
  TensorSlice() = default;
  // Covers every dimension of a rank-`rank` tensor.
  explicit TensorSlice(int rank);
  // One {start, length} per dimension; length may be kFullExtent (then
  // start must be 0). InvalidArgument for negative starts or lengths <= 0.
  static absl::StatusOr<TensorSlice> FromExtents(
      const std::vector<std::pair<int64_t, int64_t>>& extents);
  // "-" per full dimension, "start,length" otherwise, joined by ':'. The empty
  // string is a rank-0 slice.
  static absl::StatusOr<TensorSlice> Parse(absl::string_view spec);
  // A proto extent without a length covers the dimension (start must be 0).
  static absl::StatusOr<TensorSlice> FromProto(const ::tensorflow::TensorSliceProto& proto);

  // Spanning dimensions are written as empty Extent messages; otherwise
  // start (omitted when 0) and length.
  void ToProto(::tensorflow::TensorSliceProto* proto) const;
  std::string ToString() const;

  int rank() const { return static_cast<int>(starts_.size()); }
  int64_t start(int d) const { return starts_[d]; }
  // kFullExtent for a spanning dimension.
  int64_t length(int d) const { return lengths_[d]; }
  bool IsFullAt(int d) const { return lengths_[d] == kFullExtent; }
  // True when every dimension spans.
  bool IsFull() const;
  // Start and end (exclusive) of dimension d within a dimension of `size`.
  int64_t Start(int d) const { return starts_[d]; }
  int64_t End(int d, int64_t size) const {
    return IsFullAt(d) ? size : starts_[d] + lengths_[d];
  }

  // The shape of the slice within a tensor of `full_shape`; InvalidArgument
  // when ranks differ or the slice runs past a dimension.
  absl::StatusOr<TensorShape> SliceShape(const TensorShape& full_shape) const;
  // True and *result set when the slices overlap (same rank required); an
  // intersection's extents are explicit except where both span.
  bool Intersect(const TensorSlice& other, TensorSlice* result) const;
  // Replaces spanning extents by explicit ones, given the full shape.
  TensorSlice Resolved(const TensorShape& full_shape) const;
  // Does it cover every element of `full_shape`?
  bool CoversAll(const TensorShape& full_shape) const;

  bool operator==(const TensorSlice& o) const {
    return starts_ == o.starts_ && lengths_ == o.lengths_;
  }
  bool operator!=(const TensorSlice& o) const { return !(*this == o); }

 private:
  std::vector<int64_t> starts_;
  std::vector<int64_t> lengths_;
};

// Parses SaveV2's shape_and_slice: "d0 d1 ... dn-1 slice_spec". The empty
// string (the whole tensor, shape given elsewhere) yields a scalar shape and a
// rank-0 slice, which no real slice specification can produce. In TF1's spelling an extent equal to the whole
// dimension ("0,20") stays explicit, not spanning.
absl::Status ParseShapeAndSlice(absl::string_view shape_and_slice,
                                TensorShape* full_shape, TensorSlice* slice);

}  // namespace ckpt

#endif  // CKPT_TENSOR_SLICE_H_
