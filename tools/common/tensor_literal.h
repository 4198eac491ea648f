// Tensor values typed on a command line, and making a value fit the dtype
// and shape a graph expects: what ckpt_run does with `--input x=[[1],[2]]`
// and `--input x=@x.npy`.
//
//   CKPT_ASSIGN_OR_RETURN(ckpt::Tensor x,
//       ckpt::tools::ParseTensorLiteral("[[1], [2], [5]]", ckpt::DT_FLOAT));
//   // float32 [3,1]
//   CKPT_ASSIGN_OR_RETURN(x, ckpt::tools::FitToShape(x, ckpt::PartialShape({-1, 1})));
//
// Literal syntax (a Python/NumPy literal, as saved_model_cli takes):
//   value   := scalar | '[' [value {',' value} [',']] ']'
//   scalar  := number | complex | bool | string
//   number  := [+-] (digits ['.' [digits]] | '.' digits) [('e'|'E') [+-] digits]
//            | [+-] ('nan' | 'inf' | 'infinity')          (any letter case)
//   complex := number 'j' | number [+-] number 'j'   (optionally in parentheses)
//   bool    := 'true' | 'false' | 'True' | 'False'
//   string  := ['b'] ('"' chars '"' | "'" chars "'")   with \\ \' \" \n \t \r \0 \xNN
// Spaces are allowed between tokens. Nested lists must be rectangular: a
// ragged list ([[1, 2], [3]]) or a list mixing numbers and lists is
// InvalidArgument naming the 1-based character where the odd element
// starts. [] is a [0] tensor.
//
// Conversion to the requested dtype follows NumPy's np.asarray(value, dtype)
// where that is lossless enough to be what the user meant, and refuses the
// rest with InvalidArgument naming the character:
//   floats (float16, bfloat16, float32, float64): numbers (through float64,
//     then rounded to nearest even, as NumPy does), true/false as 1/0;
//   integers: whole numbers in the dtype's range (2.0 is fine, 2.5 and 300
//     for uint8 are not), true/false;
//   bool: true/false, 0 and 1;
//   complex64/128: numbers and complex numbers;
//   string: strings only.
// With DT_INVALID the dtype is inferred: string if the values are strings,
// bool if they are all true/false, complex64 if any is complex, else float32.
// Other dtypes (quantized, float8, variant, resource) are Unimplemented.
//
// Thread-safe: no shared state.
#ifndef CKPT_TOOLS_COMMON_TENSOR_LITERAL_H_
#define CKPT_TOOLS_COMMON_TENSOR_LITERAL_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace tools {

// Parses `text`; dtype DT_INVALID infers it (see above).
absl::StatusOr<Tensor> ParseTensorLiteral(absl::string_view text, DType dtype = DT_INVALID);

// Parses `text` as `dtype` and fits it to `shape` (see FitToShape).
absl::StatusOr<Tensor> ParseTensorLiteral(absl::string_view text, DType dtype,
                                          const PartialShape& shape);

// `value` converted to `dtype` element by element with the rules above (a
// float64 .npy fed to a float32 input, int64 to int32 when every value
// fits); `value` itself when it already has that dtype. InvalidArgument
// naming the first element that does not convert.
absl::StatusOr<Tensor> ConvertTensor(const Tensor& value, DType dtype);

// `value` when its shape is compatible with `shape` (or `shape` has unknown
// rank). Otherwise, a scalar or a flat list is reshaped to `shape` when that
// has a known rank, at most one unknown dimension and a size the elements
// fill exactly, as NumPy's reshape with -1 would: [1, 2, 5] fed to a
// [?,1] input becomes [[1], [2], [5]]. Anything else is InvalidArgument
// saying both shapes.
absl::StatusOr<Tensor> FitToShape(const Tensor& value, const PartialShape& shape);

// float64 to IEEE half and to bfloat16 bits, rounding to nearest even;
// exposed for tests.
uint16_t DoubleToHalfBits(double value);
uint16_t DoubleToBFloat16Bits(double value);

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_TENSOR_LITERAL_H_
