// Element values as numbers, for printing, statistics and comparison: one
// place that knows how every numeric dtype (half, bfloat16, float8, 4-bit,
// complex, quantized) turns into doubles.
#ifndef CKPT_TOOLS_COMMON_NUMERIC_H_
#define CKPT_TOOLS_COMMON_NUMERIC_H_

#include <cstdint>
#include <string>

#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

// True for dtypes whose elements decode to numbers (everything fixed-size;
// not strings, variants or resources).
bool IsNumeric(DType dtype);
// Complex dtypes have two components (real, imaginary) per element.
bool IsComplex(DType dtype);
// True for integer-like dtypes (ints, uints, bool, quantized, 4/2-bit ints),
// whose values print without a decimal point.
bool IsIntegral(DType dtype);
// Components per element: 2 for complex, else 1.
int Components(DType dtype);

// Component `c` of element `i` of a numeric tensor, as a double. Exact for
// every dtype except int64/uint64 beyond 2^53.
double ComponentAsDouble(const Tensor& t, int64_t i, int c = 0);

// Exact 64-bit integer value of element i of an integral dtype.
int64_t IntegralValue(const Tensor& t, int64_t i);
uint64_t UnsignedValue(const Tensor& t, int64_t i);

// Decoders of the narrow float formats, exposed for tests.
double HalfToDouble(uint16_t bits);
double BFloat16ToDouble(uint16_t bits);
double Float8ToDouble(DType dtype, uint8_t bits);
double Float4E2M1ToDouble(uint8_t bits);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_NUMERIC_H_
