#include "ckpt/runtime/kernels/matmul.h"

#include <algorithm>
#include <memory>

#include "ckpt/runtime/kernels/type_dispatch.h"

namespace ckpt {
namespace runtime {
namespace {

// Rows of b kept hot in cache while every row of a passes over them.
constexpr int64_t kPanelBytes = 256 << 10;

// c[j] += s * b[j], in blocks the compiler vectorizes.
template <typename T>
inline void Axpy(T s, const T* __restrict b, T* __restrict c, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int64_t u = 0; u < 8; ++u) c[j + u] = WrapAdd(c[j + u], WrapMul(s, b[j + u]));
  }
  for (; j < n; ++j) c[j] = WrapAdd(c[j], WrapMul(s, b[j]));
}

// c[j] = 0 + s * b[j]: the first term of every sum, without a separate
// pass to zero c (0 + x rather than x keeps a -0 product's sum at +0).
template <typename T>
inline void AxpyFirst(T s, const T* __restrict b, T* __restrict c, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int64_t u = 0; u < 8; ++u) c[j + u] = WrapAdd(T(0), WrapMul(s, b[j + u]));
  }
  for (; j < n; ++j) c[j] = WrapAdd(T(0), WrapMul(s, b[j]));
}

// A row-major copy of the transpose of `x` ([rows, cols] -> [cols, rows]).
template <typename T>
std::unique_ptr<T[]> Transposed(const T* x, int64_t rows, int64_t cols) {
  std::unique_ptr<T[]> t(new T[rows * cols]);
  for (int64_t r = 0; r < rows; ++r) {
    const T* src = x + r * cols;
    for (int64_t col = 0; col < cols; ++col) t[col * rows + r] = src[col];
  }
  return t;
}

// Narrow products (n up to this) keep a whole output row in registers while
// the row of a is consumed, instead of re-reading and re-writing it per term.
constexpr int kMaxNarrow = 16;

// c[m,N] = a[m,k] * b[k,N] (both row-major) for a compile-time N.
template <typename T, int N>
void NarrowRows(const T* a, const T* b, T* c, int64_t m, int64_t k) {
  for (int64_t i = 0; i < m; ++i) {
    T acc[N] = {};
    const T* a_row = a + i * k;
    for (int64_t p = 0; p < k; ++p) {
      const T s = a_row[p];
      const T* b_row = b + p * N;
      // Unrolled so that acc lives in registers (-O2 alone keeps it in memory).
#pragma GCC unroll 16
      for (int j = 0; j < N; ++j) acc[j] = WrapAdd(acc[j], WrapMul(s, b_row[j]));
    }
    std::copy(acc, acc + N, c + i * N);
  }
}

// NarrowRows for the runtime n, if n <= kMaxNarrow.
template <typename T, int N = 1>
bool DispatchNarrow(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n) {
  if constexpr (N > kMaxNarrow) {
    return false;
  } else {
    if (n == N) {
      NarrowRows<T, N>(a, b, c, m, k);
      return true;
    }
    return DispatchNarrow<T, N + 1>(a, b, c, m, k, n);
  }
}

// c[m] = op(a) * b[k]. With a stored [m,k], eight rows are summed at once
// (eight independent chains, each still in order p = 0..k-1); stored [k,m],
// each column of a is added in turn to all of c.
template <typename T>
void MatVec(const T* a, const T* b, T* c, int64_t m, int64_t k, bool transpose_a) {
  if (transpose_a) {
    // c as a row [1,m] = b as a row [1,k] times a as stored, [k,m].
    if (DispatchNarrow(b, a, c, 1, k, m)) return;
    std::fill(c, c + m, T(0));
    for (int64_t p = 0; p < k; ++p) Axpy(b[p], a + p * m, c, m);
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    T acc[8] = {};
    const T* rows = a + i * k;
    for (int64_t p = 0; p < k; ++p) {
      const T bp = b[p];
#pragma GCC unroll 8
      for (int64_t r = 0; r < 8; ++r) acc[r] = WrapAdd(acc[r], WrapMul(rows[r * k + p], bp));
    }
    std::copy(acc, acc + 8, c + i);
  }
  for (; i < m; ++i) {
    const T* row = a + i * k;
    T acc = T(0);
    for (int64_t p = 0; p < k; ++p) acc = WrapAdd(acc, WrapMul(row[p], b[p]));
    c[i] = acc;
  }
}

}  // namespace

template <typename T>
void MatMul(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n, bool transpose_a,
            bool transpose_b) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, T(0));
    return;
  }
  // A transpose with a unit dimension is the same bytes.
  if (m == 1 || k == 1) transpose_a = false;
  if (k == 1 || n == 1) transpose_b = false;
  std::unique_ptr<T[]> b_copy;
  if (transpose_b) {
    b_copy = Transposed(b, n, k);
    b = b_copy.get();
  }
  if (n == 1) {
    MatVec(a, b, c, m, k, transpose_a);
    return;
  }
  std::unique_ptr<T[]> a_copy;
  if (transpose_a) {
    a_copy = Transposed(a, k, m);
    a = a_copy.get();
  }
  if (DispatchNarrow(a, b, c, m, k, n)) return;
  const int64_t panel = std::max<int64_t>(1, kPanelBytes / static_cast<int64_t>(sizeof(T)) / n);
  for (int64_t p0 = 0; p0 < k; p0 += panel) {
    const int64_t p1 = std::min(k, p0 + panel);
    for (int64_t i = 0; i < m; ++i) {
      const T* a_row = a + i * k;
      T* c_row = c + i * n;
      int64_t p = p0;
      if (p == 0) AxpyFirst(a_row[p++], b, c_row, n);
      for (; p < p1; ++p) Axpy(a_row[p], b + p * n, c_row, n);
    }
  }
}

template void MatMul<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool,
                            bool);
template void MatMul<double>(const double*, const double*, double*, int64_t, int64_t, int64_t,
                             bool, bool);
template void MatMul<int32_t>(const int32_t*, const int32_t*, int32_t*, int64_t, int64_t,
                              int64_t, bool, bool);
template void MatMul<int64_t>(const int64_t*, const int64_t*, int64_t*, int64_t, int64_t,
                              int64_t, bool, bool);

}  // namespace runtime
}  // namespace ckpt
