// TensorProto <-> Tensor.
//
// Format facts (TensorFlow's tensor.proto and tensor.cc):
// - `tensor_content`, when non-empty, wins over the typed fields. For
//   fixed-size dtypes it is the row-major element bytes, little-endian, and
//   must be exactly num_elements * element size. For strings it is a list of
//   num_elements varint32 lengths followed by the concatenated bytes.
// - Otherwise the values sit in the field of the dtype: float_val,
//   double_val, int64_val, uint32_val, uint64_val, bool_val, string_val;
//   int_val for the 8/16-bit integers, int32, the quantized types and the
//   4/2-bit integers (each value truncated to the element width); half_val
//   holds the 16 bits of half and bfloat16 (graphs from before TensorFlow
//   moved bfloat16 there keep it in int_val, which is read as a fallback);
//   scomplex_val/dcomplex_val hold (real, imag) pairs; float8_val holds one
//   byte per element of the 8-bit (and, by analogy, 4-bit) float types.
// - Fewer values than elements: the last value repeats; no values at all:
//   zeros. More values than elements: the first num_elements are used.
//
// This host is assumed little-endian (as every platform ckpt builds on is):
// tensor_content is copied as is. A big-endian port would swap each element
// by DTypeSwapUnit here, as the bundle reader does.
#include "ckpt/tensor_proto.h"

#include <algorithm>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/io/coding.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace {

constexpr int kRefOffset = 100;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("invalid TensorProto: ", what));
}

// Copies `in_n` source values to `n` destination elements of type T with
// TensorFlow's abbreviation rule. `get(i)` returns the i-th source value.
template <typename T, typename Get>
void FillAbbreviated(absl::Span<T> out, int64_t in_n, Get get) {
  const int64_t n = static_cast<int64_t>(out.size());
  if (in_n <= 0) {
    std::fill(out.begin(), out.end(), T{});
    return;
  }
  const int64_t copied = std::min(n, in_n);
  for (int64_t i = 0; i < copied; ++i) out[i] = static_cast<T>(get(i));
  if (copied < n) std::fill(out.begin() + copied, out.end(), out[copied - 1]);
}

template <typename T, typename Field>
void FromRepeated(const Field& field, Tensor* t) {
  FillAbbreviated(t->mutable_flat<T>(), field.size(),
                  [&field](int64_t i) { return field.Get(static_cast<int>(i)); });
}

template <typename C, typename Field>
void FromComplexPairs(const Field& field, Tensor* t) {
  // An odd trailing component is ignored, as TensorFlow counts pairs.
  FillAbbreviated(t->mutable_flat<C>(), field.size() / 2, [&field](int64_t i) {
    return C(field.Get(static_cast<int>(2 * i)), field.Get(static_cast<int>(2 * i + 1)));
  });
}

absl::Status DecodeStringContent(const std::string& content, Tensor* t) {
  std::vector<std::string>& out = *t->mutable_strings();
  const int64_t n = t->NumElements();
  const char* p = content.data();
  const char* limit = p + content.size();
  std::vector<uint32_t> lengths(static_cast<size_t>(n));
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    p = GetVarint32(p, limit, &lengths[i]);
    if (p == nullptr) {
      return Invalid(absl::StrCat("string tensor_content: bad length of element ", i));
    }
    total += lengths[i];
  }
  if (total != static_cast<uint64_t>(limit - p)) {
    return Invalid(absl::StrCat("string tensor_content: lengths add up to ", total,
                                " bytes but ", limit - p, " follow them"));
  }
  for (int64_t i = 0; i < n; ++i) {
    out[i].assign(p, lengths[i]);
    p += lengths[i];
  }
  return absl::OkStatus();
}

// The bytes string_val expands to for n elements (the abbreviated form
// repeats the last string), checked before anything is allocated. No
// overflow: n is below 2^31 / sizeof(std::string) (checked by the caller) and
// one string below 2^31 bytes (protobuf's message limit).
absl::Status CheckStringValSize(const ::tensorflow::TensorProto& proto, int64_t n) {
  const int64_t copied = std::min<int64_t>(n, proto.string_val_size());
  if (copied == 0) return absl::OkStatus();
  uint64_t bytes = 0;
  for (int64_t i = 0; i < copied; ++i) bytes += proto.string_val(static_cast<int>(i)).size();
  bytes += static_cast<uint64_t>(n - copied) *
           proto.string_val(static_cast<int>(copied - 1)).size();
  if (bytes > static_cast<uint64_t>(kMaxProtoTensorBytes)) {
    return Invalid(absl::StrCat("string_val expanded to ", n, " elements exceeds the limit of ",
                                kMaxProtoTensorBytes, " bytes"));
  }
  return absl::OkStatus();
}

void DecodeStringVal(const ::tensorflow::TensorProto& proto, Tensor* t) {
  std::vector<std::string>& out = *t->mutable_strings();
  const int64_t n = t->NumElements();
  const int64_t copied = std::min<int64_t>(n, proto.string_val_size());
  if (copied == 0) return;  // already empty strings
  for (int64_t i = 0; i < copied; ++i) out[i] = proto.string_val(static_cast<int>(i));
  for (int64_t i = copied; i < n; ++i) out[i] = out[copied - 1];
}

// The typed-field form of a fixed-size dtype.
absl::Status DecodeTypedField(const ::tensorflow::TensorProto& proto, Tensor* t) {
  switch (t->dtype()) {
    case DT_FLOAT:
      FromRepeated<float>(proto.float_val(), t);
      break;
    case DT_DOUBLE:
      FromRepeated<double>(proto.double_val(), t);
      break;
    case DT_INT32:
    case DT_QINT32:
      FromRepeated<int32_t>(proto.int_val(), t);
      break;
    case DT_INT16:
    case DT_QINT16:
      FromRepeated<int16_t>(proto.int_val(), t);
      break;
    case DT_UINT16:
    case DT_QUINT16:
      FromRepeated<uint16_t>(proto.int_val(), t);
      break;
    case DT_INT8:
    case DT_QINT8:
    case DT_INT4:
    case DT_INT2:
      FromRepeated<int8_t>(proto.int_val(), t);
      break;
    case DT_UINT8:
    case DT_QUINT8:
    case DT_UINT4:
    case DT_UINT2:
      FromRepeated<uint8_t>(proto.int_val(), t);
      break;
    case DT_INT64:
      FromRepeated<int64_t>(proto.int64_val(), t);
      break;
    case DT_UINT32:
      FromRepeated<uint32_t>(proto.uint32_val(), t);
      break;
    case DT_UINT64:
      FromRepeated<uint64_t>(proto.uint64_val(), t);
      break;
    case DT_BOOL: {
      // bool elements are stored as bytes 0/1.
      const auto& f = proto.bool_val();
      FillAbbreviated(t->mutable_flat<uint8_t>(), f.size(),
                      [&f](int64_t i) { return f.Get(static_cast<int>(i)) ? 1 : 0; });
      break;
    }
    case DT_HALF:
      FromRepeated<uint16_t>(proto.half_val(), t);
      break;
    case DT_BFLOAT16:
      if (proto.half_val_size() > 0 || proto.int_val_size() == 0) {
        FromRepeated<uint16_t>(proto.half_val(), t);
      } else {
        FromRepeated<uint16_t>(proto.int_val(), t);
      }
      break;
    case DT_COMPLEX64:
      FromComplexPairs<std::complex<float>>(proto.scomplex_val(), t);
      break;
    case DT_COMPLEX128:
      FromComplexPairs<std::complex<double>>(proto.dcomplex_val(), t);
      break;
    case DT_FLOAT8_E5M2:
    case DT_FLOAT8_E4M3FN:
    case DT_FLOAT8_E4M3FNUZ:
    case DT_FLOAT8_E4M3B11FNUZ:
    case DT_FLOAT8_E5M2FNUZ:
    case DT_FLOAT4_E2M1FN: {
      const std::string& f = proto.float8_val();
      FillAbbreviated(t->mutable_flat<uint8_t>(), static_cast<int64_t>(f.size()),
                      [&f](int64_t i) { return static_cast<uint8_t>(f[i]); });
      break;
    }
    default:
      return absl::UnimplementedError(absl::StrCat(
          "TensorProto: no typed-field decoding for dtype ", DTypeName(t->dtype())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Tensor> TensorFromProto(const ::tensorflow::TensorProto& proto) {
  const int dtype_value = static_cast<int>(proto.dtype());
  if (dtype_value == DT_INVALID) return Invalid("dtype is not set");
  if (!DTypeIsKnown(dtype_value)) {
    return Invalid(absl::StrCat("unknown dtype ", dtype_value));
  }
  if (dtype_value > kRefOffset) {
    return Invalid(absl::StrCat("a tensor value cannot have reference dtype ",
                                DTypeName(proto.dtype())));
  }
  const DType dtype = proto.dtype();
  if (dtype != DT_STRING && !DTypeIsFixedSize(dtype)) {
    return absl::UnimplementedError(
        absl::StrCat("TensorProto of dtype ", DTypeName(dtype), " is not supported"));
  }
  absl::StatusOr<TensorShape> shape = TensorShape::FromProto(proto.tensor_shape());
  if (!shape.ok()) return Invalid(shape.status().message());
  const int64_t n = shape->num_elements();

  // Bound the allocation before making it. Strings count their per-element
  // overhead so that a 2^40-element abbreviated string proto is refused too.
  const int64_t width = dtype == DT_STRING ? static_cast<int64_t>(sizeof(std::string))
                                           : static_cast<int64_t>(DTypeSize(dtype));
  int64_t bytes;
  if (__builtin_mul_overflow(n, width, &bytes) || bytes > kMaxProtoTensorBytes) {
    return Invalid(absl::StrCat(DTypeName(dtype), shape->DebugString(), " exceeds the limit of ",
                                kMaxProtoTensorBytes, " bytes"));
  }
  const std::string& content = proto.tensor_content();
  if (dtype != DT_STRING && !content.empty() && n > 0 &&
      content.size() != static_cast<uint64_t>(bytes)) {
    return Invalid(absl::StrCat("tensor_content has ", content.size(), " bytes, ",
                                DTypeName(dtype), shape->DebugString(), " needs ", bytes));
  }

  if (dtype == DT_STRING) {
    if (content.empty()) {
      CKPT_RETURN_IF_ERROR(CheckStringValSize(proto, n));
    } else if (static_cast<uint64_t>(n) > content.size()) {
      // Each string's length takes at least one byte.
      return Invalid(absl::StrCat("string tensor_content of ", content.size(),
                                  " bytes cannot hold ", n, " lengths"));
    }
  }

  CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::AllocateUninitialized(dtype, *shape));
  if (n == 0) return t;
  if (dtype == DT_STRING) {
    if (!content.empty()) {
      CKPT_RETURN_IF_ERROR(DecodeStringContent(content, &t));
    } else {
      DecodeStringVal(proto, &t);
    }
    return t;
  }
  if (!content.empty()) {
    std::memcpy(t.mutable_raw_data(), content.data(), content.size());
    if (dtype == DT_BOOL) {
      // Any nonzero byte is true; stored as 1 so that reading the element
      // as a C++ bool is defined.
      for (uint8_t& b : t.mutable_flat<uint8_t>()) b = b != 0;
    }
    return t;
  }
  CKPT_RETURN_IF_ERROR(DecodeTypedField(proto, &t));
  return t;
}

absl::Status TensorToProto(const Tensor& tensor, ::tensorflow::TensorProto* proto) {
  if (!tensor.valid()) {
    return absl::InvalidArgumentError("TensorToProto: the tensor is not valid (DT_INVALID)");
  }
  const DType dtype = tensor.dtype();
  if (dtype != DT_STRING && !DTypeIsFixedSize(dtype)) {
    return absl::UnimplementedError(
        absl::StrCat("TensorToProto: dtype ", DTypeName(dtype), " is not supported"));
  }
  proto->Clear();
  proto->set_dtype(dtype);
  tensor.shape().ToProto(proto->mutable_tensor_shape());
  if (dtype == DT_STRING) {
    auto* field = proto->mutable_string_val();
    field->Reserve(static_cast<int>(tensor.strings().size()));
    for (const std::string& s : tensor.strings()) field->Add(std::string(s));
    return absl::OkStatus();
  }
  if (tensor.TotalBytes() > 0) {
    proto->set_tensor_content(tensor.raw_data(), tensor.TotalBytes());
  }
  return absl::OkStatus();
}

}  // namespace ckpt
