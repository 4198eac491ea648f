// Dense matrix product for the MatMul kernel (and any kernel that needs
// one): no BLAS, cache-friendly loop orders.
//
// Every output element is accumulated in the same order — starting from
// zero, adding a[i,p] * b[p,j] for p = 0, 1, ..., k-1 — whatever the
// transposes and shapes, so results are reproducible bit for bit and equal
// to a straightforward triple loop in that order.
#ifndef CKPT_RUNTIME_KERNELS_MATMUL_H_
#define CKPT_RUNTIME_KERNELS_MATMUL_H_

#include <cstdint>

namespace ckpt {
namespace runtime {

// c[m,n] = op(a) * op(b), where op(a) is [m,k] (a is stored row-major as
// [m,k], or as [k,m] when transpose_a) and op(b) is [k,n] (stored [k,n], or
// [n,k] when transpose_b). `c` aliases neither input. Instantiated for
// float, double, int32_t and int64_t (integers wrap on overflow).
template <typename T>
void MatMul(const T* a, const T* b, T* c, int64_t m, int64_t k, int64_t n, bool transpose_a,
            bool transpose_b);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_KERNELS_MATMUL_H_
