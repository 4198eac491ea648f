// The elementwise engine: NumPy broadcasting of two operands, and the loops
// every unary and binary kernel runs.
//
// An op is a functor with a static Apply:
//
//   struct AddFn {
//     template <typename T> static T Apply(T a, T b) { return WrapAdd(a, b); }
//   };
//   BinaryPlan plan;
//   CKPT_RETURN_IF_ERROR(MakeBinaryPlan(x.shape(), y.shape(), &plan));
//   ... allocate the output with plan.out_shape() ...
//   RunBinary<float, float, AddFn>(plan, Data<float>(x), Data<float>(y), out);
//
// The plan reduces a broadcast to the fewest dimensions (adjacent dimensions
// broadcast the same way are merged and size-1 dimensions dropped), so the
// common cases — equal shapes, one operand a single element — are a single
// flat loop, and every other case is a sequence of rows, each of which is
// one of those flat loops (short rows that repeat, like a bias, are tiled so
// that one loop covers several). Index arithmetic happens once per row,
// never per element. The flat loops are written in blocks of 8 over restrict pointers
// so that the compiler vectorizes them at -O2.
#ifndef CKPT_RUNTIME_KERNELS_ELEMENTWISE_H_
#define CKPT_RUNTIME_KERNELS_ELEMENTWISE_H_

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "ckpt/tensor_shape.h"

namespace ckpt {
namespace runtime {

class BinaryPlan {
 public:
  enum class Kind {
    kSame,     // x and y have the output's elements in the output's order
    kScalarX,  // x is one element, y has the output's elements
    kScalarY,  // the reverse
    kGeneral,  // rows (see dims and strides)
  };

  Kind kind() const { return kind_; }
  const TensorShape& out_shape() const { return out_ref_ != nullptr ? *out_ref_ : out_own_; }
  int64_t num_elements() const { return num_elements_; }

  // kGeneral: the merged output dimensions, outermost first (at least two),
  // and each operand's stride along them in elements (0 where it is
  // broadcast). The innermost stride of each operand is 0 or 1.
  const absl::InlinedVector<int64_t, 4>& dims() const { return dims_; }
  const absl::InlinedVector<int64_t, 4>& x_strides() const { return x_strides_; }
  const absl::InlinedVector<int64_t, 4>& y_strides() const { return y_strides_; }

 private:
  friend absl::Status MakeBinaryPlan(const TensorShape& x, const TensorShape& y,
                                     BinaryPlan* plan);
  Kind kind_ = Kind::kSame;
  // The output shape is one of the operands' when it equals it, which saves
  // building a shape for every call; out_ref_ must then outlive the plan.
  const TensorShape* out_ref_ = nullptr;
  TensorShape out_own_;
  int64_t num_elements_ = 0;
  absl::InlinedVector<int64_t, 4> dims_, x_strides_, y_strides_;
};

// Broadcasts x against y as NumPy does (dimensions aligned on the right;
// each pair equal or one of them 1). InvalidArgument
// "incompatible shapes: [2,3] vs. [4]" otherwise. The plan may refer to x or
// y, which must outlive it.
absl::Status MakeBinaryPlan(const TensorShape& x, const TensorShape& y, BinaryPlan* plan);

// The InvalidArgument above, for kernels that require equal shapes.
absl::Status IncompatibleShapes(const TensorShape& x, const TensorShape& y);

namespace elementwise_internal {

constexpr int64_t kBlock = 8;

template <typename T, typename R, typename F>
void LoopSame(const T* __restrict x, const T* __restrict y, R* __restrict out, int64_t n) {
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; ++j) out[i + j] = F::Apply(x[i + j], y[i + j]);
  }
  for (; i < n; ++i) out[i] = F::Apply(x[i], y[i]);
}

template <typename T, typename R, typename F>
void LoopScalarX(const T& a, const T* __restrict y, R* __restrict out, int64_t n) {
  const T x = a;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; ++j) out[i + j] = F::Apply(x, y[i + j]);
  }
  for (; i < n; ++i) out[i] = F::Apply(x, y[i]);
}

template <typename T, typename R, typename F>
void LoopScalarY(const T* __restrict x, const T& b, R* __restrict out, int64_t n) {
  const T y = b;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; ++j) out[i + j] = F::Apply(x[i + j], y);
  }
  for (; i < n; ++i) out[i] = F::Apply(x[i], y);
}


// Rows shorter than this are processed several at a time when one operand
// repeats the same row (a bias added to every row of a matrix): the
// repeated row is laid out kTileTarget / inner times in a small buffer, so
// that one flat loop covers several rows.
constexpr int64_t kTileTarget = 64;

// Two merged dimensions [rows, inner]; x and y advance by xs and ys per row
// (0 when broadcast along rows) and by x_flat / y_flat (1 or 0) along inner.
template <typename T, typename R, typename F>
void RunRows(const T* x, const T* y, R* out, int64_t rows, int64_t inner, int64_t xs,
             int64_t ys, bool x_flat, bool y_flat) {
  if constexpr (std::is_trivially_copyable_v<T>) {
    // One operand is the same row every time: tile it.
    const bool x_repeats = x_flat && y_flat && xs == 0;
    const bool y_repeats = x_flat && y_flat && ys == 0;
    if ((x_repeats || y_repeats) && inner < kTileTarget && rows > 1) {
      const int64_t per_tile = (kTileTarget + inner - 1) / inner;
      T tile[2 * kTileTarget];
      const T* row = x_repeats ? x : y;
      for (int64_t k = 0; k < per_tile; ++k) {
        for (int64_t j = 0; j < inner; ++j) tile[k * inner + j] = row[j];
      }
      const T* other = x_repeats ? y : x;
      const int64_t other_stride = x_repeats ? ys : xs;  // == inner
      for (int64_t r = 0; r < rows; r += per_tile) {
        const int64_t n = std::min(per_tile, rows - r) * inner;
        const T* o = other + r * other_stride;
        if (x_repeats) {
          LoopSame<T, R, F>(tile, o, out + r * inner, n);
        } else {
          LoopSame<T, R, F>(o, tile, out + r * inner, n);
        }
      }
      return;
    }
  }
  for (int64_t r = 0; r < rows; ++r, x += xs, y += ys, out += inner) {
    if (x_flat && y_flat) {
      LoopSame<T, R, F>(x, y, out, inner);
    } else if (y_flat) {
      LoopScalarX<T, R, F>(*x, y, out, inner);
    } else {
      LoopScalarY<T, R, F>(x, *y, out, inner);
    }
  }
}

}  // namespace elementwise_internal

// out[i] = F::Apply(x[i], y[i]) over the broadcast. `out` holds
// plan.num_elements() elements and aliases neither input.
template <typename T, typename R, typename F>
void RunBinary(const BinaryPlan& plan, const T* x, const T* y, R* out) {
  namespace ei = elementwise_internal;
  const int64_t n = plan.num_elements();
  if (n == 0) return;
  switch (plan.kind()) {
    case BinaryPlan::Kind::kSame:
      ei::LoopSame<T, R, F>(x, y, out, n);
      return;
    case BinaryPlan::Kind::kScalarX:
      ei::LoopScalarX<T, R, F>(x[0], y, out, n);
      return;
    case BinaryPlan::Kind::kScalarY:
      ei::LoopScalarY<T, R, F>(x, y[0], out, n);
      return;
    case BinaryPlan::Kind::kGeneral:
      break;
  }
  const int64_t* dims = plan.dims().data();
  const int64_t* xs = plan.x_strides().data();
  const int64_t* ys = plan.y_strides().data();
  const int rank = static_cast<int>(plan.dims().size());
  const int64_t inner = dims[rank - 1];
  const bool x_flat = xs[rank - 1] != 0;
  const bool y_flat = ys[rank - 1] != 0;
  // Whole blocks of the second-innermost dimension at a time; an odometer
  // over the dimensions outside it.
  const int64_t rows = dims[rank - 2];
  const int64_t block = rows * inner;
  const int outer_rank = rank - 2;
  absl::InlinedVector<int64_t, 4> index(outer_rank, 0);
  int64_t xo = 0, yo = 0;
  for (int64_t done = 0; done < n; done += block) {
    ei::RunRows<T, R, F>(x + xo, y + yo, out + done, rows, inner, xs[rank - 2], ys[rank - 2],
                         x_flat, y_flat);
    for (int k = outer_rank - 1; k >= 0; --k) {
      xo += xs[k];
      yo += ys[k];
      if (++index[k] < dims[k]) break;
      xo -= xs[k] * dims[k];
      yo -= ys[k] * dims[k];
      index[k] = 0;
    }
  }
}

// out[i] = F::Apply(x[i]) for i < n; `out` does not alias `x`.
template <typename T, typename R, typename F>
void RunUnary(const T* __restrict x, R* __restrict out, int64_t n) {
  constexpr int64_t kBlock = elementwise_internal::kBlock;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (int64_t j = 0; j < kBlock; ++j) out[i + j] = F::Apply(x[i + j]);
  }
  for (; i < n; ++i) out[i] = F::Apply(x[i]);
}

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_ELEMENTWISE_H_
