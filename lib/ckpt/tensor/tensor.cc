#include "ckpt/tensor.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"

namespace ckpt {
namespace {

// Owned buffers are 64-byte aligned so that any element type, and SIMD code,
// can use them directly.
constexpr size_t kAlignment = 64;

const std::vector<std::string>& EmptyStrings() {
  static const auto* empty = new std::vector<std::string>();
  return *empty;
}

absl::Status CheckAllocatable(DType dtype, const TensorShape& shape) {
  if (!shape.valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid shape ", shape.DebugString()));
  }
  if (dtype == DT_STRING) return absl::OkStatus();
  size_t width = DTypeSize(dtype);
  if (width == 0) {
    return absl::UnimplementedError(absl::StrCat(
        "cannot hold elements of dtype ", DTypeName(dtype), " in a Tensor"));
  }
  int64_t bytes;
  if (__builtin_mul_overflow(shape.num_elements(), static_cast<int64_t>(width), &bytes) ||
      static_cast<uint64_t>(bytes) > std::numeric_limits<size_t>::max() / 2) {
    return absl::ResourceExhaustedError(
        absl::StrCat("tensor ", DTypeName(dtype), shape.DebugString(), " is too large"));
  }
  return absl::OkStatus();
}

}  // namespace

Tensor::Tensor() = default;

Tensor::Tensor(DType dtype, const TensorShape& shape) {
  absl::StatusOr<Tensor> t = Allocate(dtype, shape);
  if (t.ok()) *this = std::move(*t);
}

absl::StatusOr<Tensor> Tensor::AllocateUninitialized(DType dtype,
                                                     const TensorShape& shape) {
  absl::Status s = CheckAllocatable(dtype, shape);
  if (!s.ok()) return s;
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  if (dtype == DT_STRING) {
    t.strings_ = std::make_shared<std::vector<std::string>>(
        static_cast<size_t>(shape.num_elements()));
    return t;
  }
  t.bytes_ = static_cast<size_t>(shape.num_elements()) * DTypeSize(dtype);
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, t.bytes_ == 0 ? kAlignment : t.bytes_) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory allocating ", t.bytes_, " bytes"));
  }
  t.data_ = static_cast<char*>(p);
  t.holder_ = std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  return t;
}

absl::StatusOr<Tensor> Tensor::Allocate(DType dtype, const TensorShape& shape) {
  absl::StatusOr<Tensor> t = AllocateUninitialized(dtype, shape);
  if (t.ok() && t->bytes_ > 0) std::memset(t->data_, 0, t->bytes_);
  return t;
}

absl::StatusOr<Tensor> Tensor::View(DType dtype, const TensorShape& shape,
                                    const void* data,
                                    std::shared_ptr<const void> keepalive) {
  absl::Status s = CheckAllocatable(dtype, shape);
  if (!s.ok()) return s;
  if (dtype == DT_STRING) {
    return absl::InvalidArgumentError("a string tensor cannot be a view");
  }
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.view_ = true;
  t.data_ = static_cast<char*>(const_cast<void*>(data));
  t.bytes_ = static_cast<size_t>(shape.num_elements()) * DTypeSize(dtype);
  t.holder_ = std::move(keepalive);
  return t;
}

const std::vector<std::string>& Tensor::strings() const {
  return strings_ ? *strings_ : EmptyStrings();
}

std::vector<std::string>* Tensor::mutable_strings() {
  return strings_ ? strings_.get() : nullptr;
}

Tensor Tensor::Clone() const {
  if (!valid()) return Tensor();
  absl::StatusOr<Tensor> t = AllocateUninitialized(dtype_, shape_);
  if (!t.ok()) return Tensor();
  if (dtype_ == DT_STRING) {
    *t->strings_ = *strings_;
  } else if (bytes_ > 0) {
    std::memcpy(t->data_, data_, bytes_);
  }
  return *std::move(t);
}

bool Tensor::Identical(const Tensor& other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_) return false;
  if (dtype_ == DT_STRING) return strings() == other.strings();
  return bytes_ == other.bytes_ &&
         (bytes_ == 0 || std::memcmp(data_, other.data_, bytes_) == 0);
}

std::string Tensor::DebugString() const {
  return absl::StrCat(DTypeName(dtype_), shape_.DebugString());
}

}  // namespace ckpt
