#include "ckpt/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ckpt {
namespace {

// Owned buffers are 64-byte aligned so that any element type, and SIMD code,
// can use them directly.
constexpr size_t kAlignment = 64;

// Buffers up to kCachedMaxBytes are recycled through a per-thread cache of
// power-of-two size classes. A training step frees and re-allocates the same
// few sizes dozens of times; glibc's aligned allocation (split, then
// coalesce on free) cost more than the arithmetic at those sizes. The cache
// is bounded (kCachedPerClass buffers per class, about 2 MiB per thread at
// most) and off under AddressSanitizer, which must see every free.
#if defined(__SANITIZE_ADDRESS__)
#define CKPT_TENSOR_BUFFER_CACHE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CKPT_TENSOR_BUFFER_CACHE 0
#endif
#endif
#ifndef CKPT_TENSOR_BUFFER_CACHE
#define CKPT_TENSOR_BUFFER_CACHE 1
#endif

constexpr int kMinClassShift = 6;   // 64 bytes
constexpr int kMaxClassShift = 17;  // 128 KiB
constexpr size_t kCachedMaxBytes = size_t{1} << kMaxClassShift;
constexpr size_t kCachedPerClass = 8;
constexpr int kNoClass = -1;

int SizeClass(size_t bytes) {
  if (!CKPT_TENSOR_BUFFER_CACHE || bytes > kCachedMaxBytes) return kNoClass;
  int shift = kMinClassShift;
  while ((size_t{1} << shift) < bytes) ++shift;
  return shift - kMinClassShift;
}

// malloc plus manual alignment, the original pointer kept just below the
// aligned one: glibc's posix_memalign costs several times a malloc for small
// sizes (it splits and later coalesces chunks), which showed when reading
// 100,000 small tensors.
void* AlignedMalloc(size_t bytes) {
  void* raw = std::malloc(bytes + kAlignment);
  if (raw == nullptr) return nullptr;
  const uintptr_t aligned =
      (reinterpret_cast<uintptr_t>(raw) + sizeof(void*) + kAlignment - 1) & ~(kAlignment - 1);
  reinterpret_cast<void**>(aligned)[-1] = raw;
  return reinterpret_cast<void*>(aligned);
}

void AlignedFree(void* p) {
  if (p != nullptr) std::free(reinterpret_cast<void**>(p)[-1]);
}

struct BufferCache {
  std::vector<void*> free_lists[kMaxClassShift - kMinClassShift + 1];
  ~BufferCache();
};
// Set when this thread's cache is gone (thread exit): buffers freed later,
// e.g. by static objects, go straight back to the allocator.
thread_local bool t_cache_gone = false;
thread_local BufferCache t_cache;

BufferCache::~BufferCache() {
  t_cache_gone = true;
  for (auto& list : free_lists) {
    for (void* p : list) AlignedFree(p);
  }
}

void* AllocateBuffer(size_t bytes, int size_class) {
  if (size_class != kNoClass && !t_cache_gone) {
    std::vector<void*>& list = t_cache.free_lists[size_class];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      return p;
    }
    bytes = size_t{1} << (size_class + kMinClassShift);
  }
  return AlignedMalloc(bytes);
}

void ReleaseBuffer(void* p, int size_class) {
  if (size_class != kNoClass && !t_cache_gone) {
    std::vector<void*>& list = t_cache.free_lists[size_class];
    if (list.size() < kCachedPerClass) {
      list.push_back(p);
      return;
    }
  }
  AlignedFree(p);
}

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
  const int size_class = SizeClass(t.bytes_);
  void* p = AllocateBuffer(t.bytes_, size_class);
  if (p == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory allocating ", t.bytes_, " bytes"));
  }
  t.data_ = static_cast<char*>(p);
  t.holder_ = std::shared_ptr<const void>(
      p, [size_class](const void* q) { ReleaseBuffer(const_cast<void*>(q), size_class); });
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
