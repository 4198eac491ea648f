// Index keys of saved slices: TensorFlow's "OrderedCode" encoding of
// (0, tensor name, rank, start_0, length_0, ...), which sorts slice records
// after the header and before every printable tensor name.
#ifndef CKPT_BUNDLE_SLICE_KEY_H_
#define CKPT_BUNDLE_SLICE_KEY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ckpt/tensor_slice.h"

namespace ckpt {

// The key under which the slice `slice` of tensor `name` is stored. A
// spanning dimension is encoded as (start 0, length -1).
std::string EncodeTensorNameSlice(absl::string_view name, const TensorSlice& slice);

// The inverse. InvalidArgument (naming the problem) if `key` is not a slice
// key: a leading number other than 0, rank 0, truncated or malformed fields.
absl::Status DecodeTensorNameSlice(absl::string_view key, std::string* name,
                                   TensorSlice* slice);

// OrderedCode primitives, exposed for tests.
namespace ordered_code {
void WriteNumIncreasing(std::string* dest, uint64_t value);
void WriteSignedNumIncreasing(std::string* dest, int64_t value);
void WriteString(std::string* dest, absl::string_view s);
// Each consumes from the front of *src; false on malformed input.
bool ReadNumIncreasing(absl::string_view* src, uint64_t* value);
bool ReadSignedNumIncreasing(absl::string_view* src, int64_t* value);
bool ReadString(absl::string_view* src, std::string* result);
}  // namespace ordered_code

}  // namespace ckpt

#endif  // CKPT_BUNDLE_SLICE_KEY_H_
