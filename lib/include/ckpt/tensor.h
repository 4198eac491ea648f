// ckpt/tensor.h — a typed, shaped block of values.
//
// A Tensor either owns its buffer (shared between copies, like TensorFlow's
// tensors: copying a Tensor is cheap and aliases the same values; Clone()
// makes an independent one) or is a read-only view of memory owned by
// someone else, such as a memory-mapped checkpoint, kept alive through a
// shared handle.
//
//   ckpt::Tensor w(ckpt::DT_FLOAT, ckpt::TensorShape({2, 3}));   // zeros
//   absl::Span<float> v = w.mutable_flat<float>();
//   v[0] = 1.5f;
//
//   ckpt::Tensor names(ckpt::DT_STRING, ckpt::TensorShape({2}));
//   (*names.mutable_strings())[1] = "hello";
//
// Fixed-size elements are stored row-major in host byte order, in a 64-byte
// aligned buffer when owned. DT_STRING tensors hold one std::string per
// element (any bytes, any length).
//
// Errors: the constructor yields an invalid (DT_INVALID) tensor when it
// cannot make one; Allocate and View return the reason: InvalidArgument for
// an invalid shape, Unimplemented for a dtype a Tensor cannot hold (variant,
// resource), ResourceExhausted for a size that overflows.
//
// Thread safety: any number of threads may read a tensor and its copies.
// Writing through mutable_flat() is seen by every copy sharing the buffer:
// write in place only when RefCountIsOne(), else into a Clone().
#ifndef CKPT_TENSOR_H_
#define CKPT_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ckpt/dtype.h"
#include "ckpt/tensor_shape.h"

namespace ckpt {

class Tensor {
 public:
  // An empty DT_INVALID tensor.
  Tensor();
  // Owns a zero-filled buffer (or empty strings). Invalid arguments (unknown
  // or variable-size non-string dtype, invalid shape) give a DT_INVALID
  // tensor; use Allocate to get the reason instead.
  Tensor(DType dtype, const TensorShape& shape);

  static absl::StatusOr<Tensor> Allocate(DType dtype, const TensorShape& shape);
  // Like Allocate, but fixed-size contents are left uninitialized: for
  // buffers that are about to be overwritten entirely.
  static absl::StatusOr<Tensor> AllocateUninitialized(DType dtype,
                                                      const TensorShape& shape);
  // A read-only view of num_elements * DTypeSize bytes at `data`, which must
  // stay valid while `keepalive` (or, if null, the caller) keeps it alive.
  // Fixed-size dtypes only.
  static absl::StatusOr<Tensor> View(DType dtype, const TensorShape& shape,
                                     const void* data,
                                     std::shared_ptr<const void> keepalive);

  DType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int64_t NumElements() const { return shape_.num_elements(); }
  bool is_view() const { return view_; }
  bool valid() const { return dtype_ != DT_INVALID; }

  // Fixed-size dtypes: the element bytes (size TotalBytes()).
  const char* raw_data() const { return data_; }
  // nullptr for views and string tensors.
  char* mutable_raw_data() { return view_ ? nullptr : data_; }
  size_t TotalBytes() const { return bytes_; }
  absl::string_view bytes() const { return absl::string_view(data_, bytes_); }

  // Typed access; T must have the dtype's element size (uint16_t for half
  // and bfloat16, std::complex<float> for complex64, ...). Empty span on a
  // size mismatch or for views (mutable_flat).
  template <typename T>
  absl::Span<const T> flat() const {
    if (sizeof(T) != DTypeSize(dtype_)) return {};
    return absl::Span<const T>(reinterpret_cast<const T*>(data_),
                               static_cast<size_t>(NumElements()));
  }
  template <typename T>
  absl::Span<T> mutable_flat() {
    if (view_ || sizeof(T) != DTypeSize(dtype_)) return {};
    return absl::Span<T>(reinterpret_cast<T*>(data_),
                         static_cast<size_t>(NumElements()));
  }

  // DT_STRING only (empty otherwise).
  const std::vector<std::string>& strings() const;
  std::vector<std::string>* mutable_strings();

  // An independent owning copy.
  Tensor Clone() const;

  // Whether this is the only Tensor sharing its buffer: an owner may then
  // update the values in place without other holders seeing the change.
  bool RefCountIsOne() const {
    if (view_) return false;
    return strings_ ? strings_.use_count() == 1 : holder_.use_count() == 1;
  }

  // Same dtype, shape and element bytes (bitwise; NaNs with equal bits are
  // equal).
  bool Identical(const Tensor& other) const;

  // "float32[2,3]".
  std::string DebugString() const;

 private:
  DType dtype_ = DT_INVALID;
  TensorShape shape_;
  bool view_ = false;
  char* data_ = nullptr;
  size_t bytes_ = 0;
  std::shared_ptr<const void> holder_;          // owns data_ or keeps a view alive
  std::shared_ptr<std::vector<std::string>> strings_;
};

}  // namespace ckpt

#endif  // CKPT_TENSOR_H_
