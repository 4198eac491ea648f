// ckpt/tensor_proto.h — conversion between Tensor and TensorFlow's
// TensorProto (the form a graph's Const node and attr values hold).
//
//   tensorflow::TensorProto p;
//   CKPT_RETURN_IF_ERROR(ckpt::TensorToProto(t, &p));   // tensor_content form
//   CKPT_ASSIGN_OR_RETURN(ckpt::Tensor back, ckpt::TensorFromProto(p));
//
// TensorFromProto accepts every encoding TensorFlow writes: packed
// `tensor_content` bytes (little-endian), the typed repeated fields
// (float_val, int_val, half_val, ...), and the abbreviated form where fewer
// values than elements are given and the last one repeats (a Const of
// zeros([1000]) stores a single 0). Hostile protos (a shape of 2^60
// elements, a content size that does not match the shape, negative dims)
// are refused with InvalidArgument before anything is allocated.
#ifndef CKPT_TENSOR_PROTO_H_
#define CKPT_TENSOR_PROTO_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ckpt/tensor.h"
#include "tensor.pb.h"

namespace ckpt {

// Largest tensor TensorFromProto will expand from an abbreviated proto.
constexpr int64_t kMaxProtoTensorBytes = int64_t{1} << 31;

absl::StatusOr<Tensor> TensorFromProto(const ::tensorflow::TensorProto& proto);

// Fixed-size dtypes use tensor_content (as TensorFlow's tensor_util does for
// anything but tiny tensors); strings use string_val.
absl::Status TensorToProto(const Tensor& tensor, ::tensorflow::TensorProto* proto);

}  // namespace ckpt

#endif  // CKPT_TENSOR_PROTO_H_
