// ckpt/tensor_shape.h — the dimensions of a tensor.
//
//   ckpt::TensorShape s({2, 3});          // rank 2, 6 elements
//   ckpt::TensorShape scalar;             // rank 0, 1 element
//   auto t = ckpt::TensorShape::FromDims(dims_from_a_file);   // validated
//
// A shape built from untrusted numbers must go through FromDims/FromProto,
// which refuse negative sizes, rank > 254 and element counts that overflow
// int64. The constructor taking a list is for literals in code: an invalid
// list yields a shape whose valid() is false and num_elements() is -1, and
// every API taking a shape refuses it.
#ifndef CKPT_TENSOR_SHAPE_H_
#define CKPT_TENSOR_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tensor_shape.pb.h"

namespace ckpt {

class TensorShape {
 public:
  static constexpr int kMaxRank = 254;

  TensorShape() = default;
  TensorShape(std::initializer_list<int64_t> dims);

  static absl::StatusOr<TensorShape> FromDims(absl::Span<const int64_t> dims);
  // Refuses unknown rank and unknown (-1) dimensions, as bundles hold neither.
  static absl::StatusOr<TensorShape> FromProto(
      const ::tensorflow::TensorShapeProto& proto);

  // Canonical form: one Dim per dimension, size omitted when 0, no names.
  void ToProto(::tensorflow::TensorShapeProto* proto) const;

  bool valid() const { return num_elements_ >= 0; }
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t num_elements() const { return num_elements_; }

  // "[2,3]"; "[]" for a scalar.
  std::string DebugString() const;

  bool operator==(const TensorShape& other) const { return dims_ == other.dims_; }
  bool operator!=(const TensorShape& other) const { return !(*this == other); }

 private:
  std::vector<int64_t> dims_;
  int64_t num_elements_ = 1;
};

}  // namespace ckpt

#endif  // CKPT_TENSOR_SHAPE_H_
