// Tensor values as text, laid out the way NumPy prints an array: what
// `print(t.numpy())` shows in Python for the same tensor (numpy's str() with
// its default options: precision 8, threshold 1000, edgeitems 3, linewidth 75,
// floatmode 'maxprec', sign '-').
//
//   ckpt::Tensor t(ckpt::DT_FLOAT, ckpt::TensorShape({3}));
//   auto v = t.mutable_flat<float>();
//   v[0] = 1; v[1] = 2.5f; v[2] = 3;
//   ckpt::tools::FormatValues(t);    // "[1.  2.5 3. ]"
//
// The layout follows NumPy: nested brackets, every element padded to one
// width fitted to the elements shown, lines wrapped before column 75 with the
// continuation indented under the first element, a blank line between the
// 2-D blocks of a 3-D array (two between 3-D blocks, ...), and "..." standing
// for all but the first and last 3 entries of every long dimension once the
// element count passes `max_elements`. A scalar prints bare, as Python prints
// the scalar ("0.5", "True", "(1+2j)", "b'abc'"); an empty array as "[]".
//
// Floats print the shortest digits that identify the value in its own format
// (at most 8 after the point, or 8 after the first digit in scientific
// notation, which NumPy switches to when a non-zero |value| is >= 1e8 or
// < 1e-4, or the largest is more than 1000 times the smallest). float16 uses
// half precision, as NumPy does. bfloat16, float8 and float4 have no NumPy
// type; they print as the float32 array of the same values would.
// Integers of every width (and quantized ones) print as NumPy integers; bool
// as True/False; DT_STRING elements as Python bytes literals (b'a\x00'), the
// way an object array of bytes prints. Other dtypes (variant, resource) give a
// one-line note instead of values.
//
// Thread-safe: these functions only read their arguments.
#ifndef CKPT_TOOLS_COMMON_VALUES_H_
#define CKPT_TOOLS_COMMON_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

// NumPy's default print threshold: arrays with more elements are summarized.
constexpr int64_t kDefaultMaxPrintedElements = 1000;

// The tensor's values as NumPy prints them; summarized with "..." when
// t.NumElements() > max_elements (a negative max_elements never summarizes).
// Multi-line for arrays that do not fit one line; no trailing newline.
std::string FormatValues(const Tensor& t,
                         int64_t max_elements = kDefaultMaxPrintedElements);

// Python's repr() of a bytes object: b'abc', b'\x00\n', b"it's".
std::string PythonBytesRepr(absl::string_view bytes);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_VALUES_H_
