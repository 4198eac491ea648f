// Static shape facts the builders compute while a graph is built, as
// TensorFlow's shape functions do: broadcasting, merging of partly known
// shapes, and the values of small integer tensors (shapes, axes) that are
// known before anything runs. Private to the runtime.
#ifndef CKPT_RUNTIME_BUILDERS_SHAPE_INFERENCE_H_
#define CKPT_RUNTIME_BUILDERS_SHAPE_INFERENCE_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/tensor.h"

namespace ckpt {
namespace runtime {

// An element of a partially known integer vector that is not known.
constexpr int64_t kUnknownValue = std::numeric_limits<int64_t>::min();

// The value of a Const node's output; nullopt for any other node (or a
// Const whose value does not decode).
std::optional<Tensor> ConstantValue(const Output& o);

// The elements of an int32/int64 scalar (as one element) or vector output
// when they are all known without running the graph: a Const, or a Shape /
// Size / Rank of a statically known input, or Pack / ConcatV2 / Slice /
// Identity / elementwise arithmetic of such values. nullopt otherwise.
// `g` is the graph holding `o` (inputs are found in it by name).
std::optional<std::vector<int64_t>> ConstantIntValue(const Graph& g, const Output& o);

// Like ConstantIntValue, but elements may be kUnknownValue (a Shape of a
// partly known input, an output of known length but unknown contents), as
// TensorFlow's shape functions read a shape argument.
std::optional<std::vector<int64_t>> PartialIntValue(const Graph& g, const Output& o);

// The shape of a broadcasting elementwise result; InvalidArgument
// "incompatible shapes [2,3] and [4]" when the static dims cannot broadcast.
absl::StatusOr<PartialShape> BroadcastShapes(const PartialShape& a, const PartialShape& b);

// The most specific shape compatible with both; InvalidArgument when they
// are not compatible.
absl::StatusOr<PartialShape> MergeShapes(const PartialShape& a, const PartialShape& b);

// A shape from a partially known shape vector (kUnknownValue and any
// negative element become unknown dims).
PartialShape ShapeFromValue(const std::vector<int64_t>& dims);

// A shape of known rank and no known dims.
PartialShape UnknownShapeOfRank(int rank);

// The number of elements, or -1 when not fully defined.
int64_t NumElements(const PartialShape& shape);

}  // namespace runtime
}  // namespace ckpt

#endif  // CKPT_RUNTIME_BUILDERS_SHAPE_INFERENCE_H_
