// Array kernels: ops that rearrange elements without computing on them
// (shape queries, reshapes, slicing, joining, gathering, tiling). They work
// for every fixed-size dtype by copying element bytes, and for strings by
// copying the strings, so one body serves all types.
//
// Semantics follow TensorFlow's kernels of the same names: negative axes
// count from the end, StridedSlice implements all five masks exactly as
// TensorFlow canonicalizes them, and BroadcastGradientArgs returns
// TensorFlow's reduction indices (including its quirk that a dimension of 1
// in both shapes is reduced in both, except when the shapes are equal).
#include <algorithm>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

using Dims = absl::InlinedVector<int64_t, 8>;

std::string DimsString(absl::Span<const int64_t> dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// ---- reading index inputs and attrs ----------------------------------------

// The values of an int32 or int64 input (a shape, begin, perm, ...).
absl::StatusOr<std::vector<int64_t>> IndexValues(const Tensor& t, absl::string_view what) {
  std::vector<int64_t> out;
  if (t.dtype() == DT_INT32) {
    auto v = t.flat<int32_t>();
    out.assign(v.begin(), v.end());
  } else if (t.dtype() == DT_INT64) {
    auto v = t.flat<int64_t>();
    out.assign(v.begin(), v.end());
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be int32 or int64, not ", DTypeName(t.dtype())));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> IndexVector(const Tensor& t, absl::string_view what) {
  if (t.shape().rank() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a vector, not of shape ", t.shape().DebugString()));
  }
  return IndexValues(t, what);
}

// A scalar (or, as TensorFlow accepts for axes, a one-element vector).
absl::StatusOr<int64_t> IndexScalar(const Tensor& t, absl::string_view what) {
  if (t.NumElements() != 1 || t.shape().rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a scalar, not of shape ", t.shape().DebugString()));
  }
  CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> v, IndexValues(t, what));
  return v[0];
}

// `axis` in [-rank, rank) made non-negative.
absl::StatusOr<int> CanonicalAxis(int64_t axis, int rank, absl::string_view what) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", axis, " is out of range for rank ", rank, " (expected [", -rank,
                     ", ", rank, "))"));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// An attr that has a default in the OpDef: the default when the NodeDef
// lacks it (graphs built by hand), an error when it holds another type.
absl::StatusOr<int64_t> IntAttrOr(const ::tensorflow::NodeDef& def, absl::string_view name,
                                  int64_t dflt) {
  if (def.attr().find(std::string(name)) == def.attr().end()) return dflt;
  return GetIntAttr(def, name);
}
absl::StatusOr<DType> TypeAttrOr(const ::tensorflow::NodeDef& def, absl::string_view name,
                                 DType dflt) {
  if (def.attr().find(std::string(name)) == def.attr().end()) return dflt;
  return GetTypeAttr(def, name);
}

absl::StatusOr<DType> IndexTypeAttr(const ::tensorflow::NodeDef& def, absl::string_view name) {
  CKPT_ASSIGN_OR_RETURN(DType t, TypeAttrOr(def, name, DT_INT32));
  if (t != DT_INT32 && t != DT_INT64) {
    return absl::InvalidArgumentError(
        absl::StrCat("attr '", name, "' must be int32 or int64, not ", DTypeName(t)));
  }
  return t;
}

// Writes `values` into an int32 or int64 tensor, refusing values int32
// cannot hold.
absl::Status WriteIndexValues(absl::Span<const int64_t> values, Tensor* out) {
  if (out->dtype() == DT_INT64) {
    std::copy(values.begin(), values.end(), out->mutable_flat<int64_t>().begin());
    return absl::OkStatus();
  }
  auto o = out->mutable_flat<int32_t>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("value ", values[i], " does not fit the int32 output; use out_type int64"));
    }
    o[i] = static_cast<int32_t>(values[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<TensorShape> MakeShape(absl::Span<const int64_t> dims) {
  return TensorShape::FromDims(dims);
}

// ---- moving elements --------------------------------------------------------

// Copies elements between two tensors of one dtype (fixed-size or string).
class ElementMover {
 public:
  static absl::StatusOr<ElementMover> Make(const Tensor& src, Tensor* dst) {
    ElementMover m;
    if (src.dtype() == DT_STRING) {
      m.src_strings_ = src.strings().data();
      m.dst_strings_ = dst->mutable_strings()->data();
      return m;
    }
    m.width_ = DTypeSize(src.dtype());
    if (m.width_ == 0) {
      return absl::UnimplementedError(
          absl::StrCat("cannot move elements of dtype ", DTypeName(src.dtype())));
    }
    m.src_ = src.raw_data();
    m.dst_ = dst->mutable_raw_data();
    return m;
  }

  // dst[d, d + n) = src[s, s + n).
  void Copy(int64_t d, int64_t s, int64_t n) const {
    if (n <= 0) return;
    if (width_ == 0) {
      std::copy_n(src_strings_ + s, n, dst_strings_ + d);
    } else {
      std::memcpy(dst_ + d * width_, src_ + s * width_, static_cast<size_t>(n) * width_);
    }
  }
  // dst[d, d + n) = src[s], n times.
  void Fill(int64_t d, int64_t s, int64_t n) const {
    if (width_ == 0) {
      std::fill_n(dst_strings_ + d, n, src_strings_[s]);
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(dst_ + (d + i) * width_, src_ + s * width_, width_);
    }
  }

 private:
  ElementMover() = default;
  size_t width_ = 0;
  const char* src_ = nullptr;
  char* dst_ = nullptr;
  const std::string* src_strings_ = nullptr;
  std::string* dst_strings_ = nullptr;
};

// Row-major strides, in elements, of `dims`.
Dims Strides(absl::Span<const int64_t> dims) {
  Dims s(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

// Fills the destination, in row-major order over `dims`, with the source
// element at offset + sum(index[k] * strides[k]). Runs along the innermost
// dimension are one copy when its stride is 1.
void GatherStrided(const ElementMover& m, absl::Span<const int64_t> dims,
                   absl::Span<const int64_t> strides, int64_t offset) {
  const int rank = static_cast<int>(dims.size());
  for (int64_t d : dims) {
    if (d == 0) return;
  }
  if (rank == 0) {
    m.Copy(0, offset, 1);
    return;
  }
  const int64_t inner = dims[rank - 1];
  const int64_t inner_stride = strides[rank - 1];
  Dims index(rank - 1, 0);
  int64_t src = offset;
  int64_t dst = 0;
  while (true) {
    if (inner_stride == 1) {
      m.Copy(dst, src, inner);
    } else {
      for (int64_t j = 0; j < inner; ++j) m.Copy(dst + j, src + j * inner_stride, 1);
    }
    dst += inner;
    int k = rank - 2;
    for (; k >= 0; --k) {
      src += strides[k];
      if (++index[k] < dims[k]) break;
      src -= strides[k] * dims[k];
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

// A tensor with x's values and another shape of as many elements. Fixed-size
// values are not copied: the result is a read-only view that keeps x's
// buffer alive (kernels that update in place copy a view first).
absl::StatusOr<Tensor> Reshaped(const Tensor& x, const TensorShape& shape) {
  if (x.dtype() == DT_STRING) {
    CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::AllocateUninitialized(DT_STRING, shape));
    *out.mutable_strings() = x.strings();
    return out;
  }
  auto keep = std::make_shared<Tensor>(x);
  return Tensor::View(x.dtype(), shape, x.raw_data(), std::shared_ptr<const void>(keep));
}

// ---- shape queries ----------------------------------------------------------

class ShapeOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(DType t, IndexTypeAttr(c.def, "out_type"));
    return std::unique_ptr<OpKernel>(new ShapeOp(t));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const std::vector<int64_t>& dims = ctx->input(0).shape().dims();
    const int64_t rank = static_cast<int64_t>(dims.size());
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, out_type_, TensorShape({rank})));
    return WriteIndexValues(dims, out);
  }

 private:
  explicit ShapeOp(DType t) : out_type_(t) {}
  DType out_type_;
};

class SizeOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(DType t, IndexTypeAttr(c.def, "out_type"));
    return std::unique_ptr<OpKernel>(new SizeOp(t));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const int64_t n = ctx->input(0).NumElements();
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, out_type_, TensorShape({})));
    return WriteIndexValues({n}, out);
  }

 private:
  explicit SizeOp(DType t) : out_type_(t) {}
  DType out_type_;
};

// Rank has no out_type: always int32.
class RankOp : public OpKernel {
 public:
  explicit RankOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, DT_INT32, TensorShape({})));
    out->mutable_flat<int32_t>()[0] = ctx->input(0).shape().rank();
    return absl::OkStatus();
  }
};

// ---- reshapes ---------------------------------------------------------------

// One requested size may be -1, inferred from the element count. As in
// TensorFlow, when the request has a 0 the input's 0-sized dimensions are
// left out of that inference, so [0,3] reshapes to [0,-1] as [0,3].
class ReshapeOp : public OpKernel {
 public:
  explicit ReshapeOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IndexVector(ctx->input(1), "shape"));
    const int64_t n = x.NumElements();
    auto mismatch = [&] {
      return absl::InvalidArgumentError(absl::StrCat("cannot reshape a tensor of ", n,
                                                     " elements to shape ", DimsString(dims)));
    };
    int unknown = -1;
    int64_t product = 1;
    bool has_zero = false;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == -1) {
        if (unknown >= 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "only one dimension of shape ", DimsString(dims), " may be -1"));
        }
        unknown = static_cast<int>(i);
      } else if (dims[i] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("shape ", DimsString(dims), " has a negative size at index ", i));
      } else if (dims[i] == 0) {
        has_zero = true;
      } else if (__builtin_mul_overflow(product, dims[i], &product)) {
        return mismatch();
      }
    }
    std::vector<int64_t> resolved = dims;
    if (unknown >= 0) {
      int64_t counted = 1;
      bool clamped = false;
      for (int64_t d : x.shape().dims()) {
        if (d == 0 && has_zero) {
          clamped = true;
        } else {
          counted *= d;
        }
      }
      const int64_t missing = counted / product;
      if (!clamped && missing * product != counted) return mismatch();
      resolved[unknown] = missing;
    }
    absl::StatusOr<TensorShape> shape = MakeShape(resolved);
    if (!shape.ok() || shape->num_elements() != n) return mismatch();
    CKPT_ASSIGN_OR_RETURN(Tensor out, Reshaped(x, *shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

class ExpandDimsOp : public OpKernel {
 public:
  explicit ExpandDimsOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(int64_t dim, IndexScalar(ctx->input(1), "dim"));
    const int rank = x.shape().rank();
    // The new axis may go anywhere from before the first to after the last.
    CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(dim, rank + 1, "dim"));
    std::vector<int64_t> dims = x.shape().dims();
    dims.insert(dims.begin() + axis, 1);
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor out, Reshaped(x, shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

class SqueezeOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    std::vector<int64_t> axes;
    // TensorFlow's attr is squeeze_dims; tf.squeeze's argument is "axis".
    for (const char* name : {"squeeze_dims", "axis"}) {
      if (c.def.attr().count(name) > 0) {
        CKPT_ASSIGN_OR_RETURN(axes, GetIntListAttr(c.def, name));
        break;
      }
    }
    return std::unique_ptr<OpKernel>(new SqueezeOp(std::move(axes)));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const int rank = x.shape().rank();
    std::vector<bool> drop(rank, false);
    for (int64_t a : axes_) {
      CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(a, rank, "squeeze dimension"));
      if (x.shape().dim(axis) != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot squeeze dimension ", axis, " of shape ",
                         x.shape().DebugString(), ": its size is not 1"));
      }
      drop[axis] = true;
    }
    std::vector<int64_t> dims;
    for (int i = 0; i < rank; ++i) {
      const int64_t d = x.shape().dim(i);
      if (axes_.empty() ? d == 1 : drop[i]) continue;
      dims.push_back(d);
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor out, Reshaped(x, shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }

 private:
  explicit SqueezeOp(std::vector<int64_t> axes) : axes_(std::move(axes)) {}
  std::vector<int64_t> axes_;
};

// StopGradient and friends: the value passes through; only gradient
// construction treats them specially.
class PassThroughOp : public OpKernel {
 public:
  explicit PassThroughOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};

// ---- creating tensors ------------------------------------------------------

// The bytes of 1 in `dtype` (one element), or an error for dtypes without a
// one (strings).
absl::StatusOr<std::string> OneBytes(DType dtype) {
  auto bytes = [](auto v) { return std::string(reinterpret_cast<const char*>(&v), sizeof(v)); };
  switch (dtype) {
    case DT_FLOAT: return bytes(1.0f);
    case DT_DOUBLE: return bytes(1.0);
    case DT_HALF: return bytes(uint16_t{0x3C00});
    case DT_BFLOAT16: return bytes(uint16_t{0x3F80});
    case DT_COMPLEX64: return bytes(std::complex<float>(1.0f, 0.0f));
    case DT_COMPLEX128: return bytes(std::complex<double>(1.0, 0.0));
    case DT_INT8: case DT_UINT8: case DT_BOOL: case DT_QINT8: case DT_QUINT8:
      return bytes(uint8_t{1});
    case DT_INT16: case DT_UINT16: case DT_QINT16: case DT_QUINT16:
      return bytes(uint16_t{1});
    case DT_INT32: case DT_UINT32: case DT_QINT32:
      return bytes(uint32_t{1});
    case DT_INT64: case DT_UINT64:
      return bytes(uint64_t{1});
    default:
      return absl::UnimplementedError(
          absl::StrCat("OnesLike has no kernel for dtype ", DTypeName(dtype)));
  }
}

// Every element of `out` set to the one element of `value`.
absl::Status FillWith(const Tensor& value, Tensor* out) {
  CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(value, out));
  m.Fill(0, 0, out->NumElements());
  return absl::OkStatus();
}

class FillOp : public OpKernel {
 public:
  explicit FillOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> dims, IndexVector(ctx->input(0), "dims"));
    const Tensor& value = ctx->input(1);
    if (value.shape().rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value must be a scalar, not of shape ", value.shape().DebugString()));
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, value.dtype(), shape));
    return FillWith(value, out);
  }
};

class ZerosLikeOp : public OpKernel {
 public:
  explicit ZerosLikeOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    // Allocate (not allocate_output) zero-fills, and gives strings "".
    CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(x.dtype(), x.shape()));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

class OnesLikeOp : public OpKernel {
 public:
  explicit OnesLikeOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::string one, OneBytes(x.dtype()));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), x.shape()));
    char* p = out->mutable_raw_data();
    for (int64_t i = 0; i < out->NumElements(); ++i) {
      std::memcpy(p + i * one.size(), one.data(), one.size());
    }
    return absl::OkStatus();
  }
};

// ---- tiling and joining -----------------------------------------------------

// Fixed-size elements: writes the tiling of the input block at `in`
// (dimensions k.. of the input) at `out` and returns the bytes written. Each
// block is built once and then doubled by memcpy, so a [1] -> [300] tile is
// nine copies, not 300.
size_t TileBytes(const char* in, char* out, int k, const std::vector<int64_t>& dims,
                 const std::vector<int64_t>& multiples, size_t elem) {
  const int rank = static_cast<int>(dims.size());
  if (k == rank) {
    std::memcpy(out, in, elem);
    return elem;
  }
  size_t in_stride = elem;  // bytes of one index step along k in the input
  for (int i = k + 1; i < rank; ++i) in_stride *= static_cast<size_t>(dims[i]);
  size_t block = 0;
  if (k == rank - 1) {
    block = static_cast<size_t>(dims[k]) * elem;
    std::memcpy(out, in, block);
  } else {
    for (int64_t j = 0; j < dims[k]; ++j) {
      block += TileBytes(in + j * in_stride, out + block, k + 1, dims, multiples, elem);
    }
  }
  const size_t total = block * static_cast<size_t>(multiples[k]);
  for (size_t filled = block; filled < total;) {
    const size_t n = std::min(filled, total - filled);
    std::memcpy(out + filled, out, n);
    filled += n;
  }
  return total;
}

class TileOp : public OpKernel {
 public:
  explicit TileOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> multiples,
                          IndexVector(ctx->input(1), "multiples"));
    const int rank = x.shape().rank();
    if (static_cast<int>(multiples.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "multiples ", DimsString(multiples), " must have one entry per dimension of ",
          x.shape().DebugString()));
    }
    std::vector<int64_t> out_dims(rank);
    for (int i = 0; i < rank; ++i) {
      if (multiples[i] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("multiples ", DimsString(multiples), " has a negative entry"));
      }
      if (__builtin_mul_overflow(x.shape().dim(i), multiples[i], &out_dims[i])) {
        return absl::InvalidArgumentError("tiled shape overflows int64");
      }
    }
    if (std::all_of(multiples.begin(), multiples.end(), [](int64_t m) { return m == 1; })) {
      ctx->set_output(0, x);  // the same values: share them
      return absl::OkStatus();
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(out_dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), shape));
    if (x.dtype() != DT_STRING) {
      if (out->NumElements() > 0) {
        TileBytes(x.raw_data(), out->mutable_raw_data(), 0, x.shape().dims(), multiples,
                  DTypeSize(x.dtype()));
      }
      return absl::OkStatus();
    }
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(x, out));
    // Output index along dimension k is t * dim_k + j (t-th copy, element j),
    // so walking (t_0, j_0, t_1, j_1, ...) row-major visits the output in
    // order, reading element j_k of the input along k.
    const Dims in_strides = Strides(x.shape().dims());
    Dims dims, strides;
    for (int k = 0; k < rank; ++k) {
      dims.push_back(multiples[k]);
      strides.push_back(0);
      dims.push_back(x.shape().dim(k));
      strides.push_back(in_strides[k]);
    }
    GatherStrided(m, dims, strides, 0);
    return absl::OkStatus();
  }
};

// Joins `values` along `axis` (already canonical for their rank).
absl::Status ConcatValues(KernelContext* ctx, const std::vector<const Tensor*>& values,
                          int64_t axis_value) {
  const Tensor& first = *values[0];
  const int rank = first.shape().rank();
  if (rank == 0) {
    return absl::InvalidArgumentError("cannot concatenate scalars (use Pack)");
  }
  CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(axis_value, rank, "concat axis"));
  std::vector<int64_t> out_dims = first.shape().dims();
  out_dims[axis] = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const Tensor& v = *values[i];
    bool compatible = v.dtype() == first.dtype() && v.shape().rank() == rank;
    for (int k = 0; compatible && k < rank; ++k) {
      if (k != axis && v.shape().dim(k) != first.shape().dim(k)) compatible = false;
    }
    if (!compatible) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot concatenate ", v.DebugString(), " (value ", i, ") with ", first.DebugString(),
          " along axis ", axis));
    }
    out_dims[axis] += v.shape().dim(axis);
  }
  if (values.size() == 1) {
    ctx->set_output(0, first);
    return absl::OkStatus();
  }
  CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(out_dims));
  CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, first.dtype(), shape));
  int64_t outer = 1;
  for (int k = 0; k < axis; ++k) outer *= out_dims[k];
  if (shape.num_elements() == 0) return absl::OkStatus();
  const int64_t out_row = shape.num_elements() / outer;
  std::vector<ElementMover> movers;
  std::vector<int64_t> rows;
  for (const Tensor* v : values) {
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(*v, out));
    movers.push_back(m);
    rows.push_back(v->NumElements() / outer);
  }
  for (int64_t o = 0; o < outer; ++o) {
    int64_t dst = o * out_row;
    for (size_t i = 0; i < values.size(); ++i) {
      movers[i].Copy(dst, o * rows[i], rows[i]);
      dst += rows[i];
    }
  }
  return absl::OkStatus();
}

// ConcatV2: (values..., axis). Concat: (concat_dim, values...).
template <bool kAxisFirst>
class ConcatOp : public OpKernel {
 public:
  explicit ConcatOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs() - 1;
    if (n < 1) return absl::InvalidArgumentError("concat needs at least one value");
    const int axis_input = kAxisFirst ? 0 : n;
    CKPT_ASSIGN_OR_RETURN(int64_t axis, IndexScalar(ctx->input(axis_input), "concat axis"));
    std::vector<const Tensor*> values;
    for (int i = 0; i < n; ++i) values.push_back(&ctx->input(kAxisFirst ? i + 1 : i));
    return ConcatValues(ctx, values, axis);
  }
};

class PackOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(int64_t axis, IntAttrOr(c.def, "axis", 0));
    return std::unique_ptr<OpKernel>(new PackOp(axis));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs();
    if (n < 1) return absl::InvalidArgumentError("Pack needs at least one value");
    const Tensor& first = ctx->input(0);
    const int rank = first.shape().rank();
    CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(axis_, rank + 1, "pack axis"));
    for (int i = 1; i < n; ++i) {
      const Tensor& v = ctx->input(i);
      if (v.dtype() != first.dtype() || v.shape() != first.shape()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot pack ", v.DebugString(), " (value ", i, ") with ",
                         first.DebugString(), ": all values must have one shape and dtype"));
      }
    }
    std::vector<int64_t> dims = first.shape().dims();
    dims.insert(dims.begin() + axis, n);
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, first.dtype(), shape));
    int64_t outer = 1;
    for (int k = 0; k < axis; ++k) outer *= dims[k];
    const int64_t chunk = outer == 0 ? 0 : first.NumElements() / outer;
    for (int i = 0; i < n; ++i) {
      CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(ctx->input(i), out));
      for (int64_t o = 0; o < outer; ++o) m.Copy((o * n + i) * chunk, o * chunk, chunk);
    }
    return absl::OkStatus();
  }

 private:
  explicit PackOp(int64_t axis) : axis_(axis) {}
  int64_t axis_;
};

class UnpackOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(int64_t num, GetIntAttr(c.def, "num"));
    CKPT_ASSIGN_OR_RETURN(int64_t axis, IntAttrOr(c.def, "axis", 0));
    return std::unique_ptr<OpKernel>(new UnpackOp(num, axis));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const int rank = x.shape().rank();
    if (rank == 0) return absl::InvalidArgumentError("cannot unpack a scalar");
    CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(axis_, rank, "unpack axis"));
    if (x.shape().dim(axis) != num_ || ctx->num_outputs() != num_) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot unpack ", x.DebugString(), " into ", num_,
                       " values along axis ", axis));
    }
    std::vector<int64_t> dims = x.shape().dims();
    dims.erase(dims.begin() + axis);
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    int64_t outer = 1;
    for (int k = 0; k < axis; ++k) outer *= dims[k];
    const int64_t inner = shape.num_elements() / std::max<int64_t>(outer, 1);
    for (int i = 0; i < num_; ++i) {
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(i, x.dtype(), shape));
      CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(x, out));
      const int64_t d[2] = {outer, inner};
      const int64_t s[2] = {num_ * inner, 1};
      GatherStrided(m, d, s, i * inner);
    }
    return absl::OkStatus();
  }

 private:
  UnpackOp(int64_t num, int64_t axis) : num_(num), axis_(axis) {}
  int64_t num_;
  int64_t axis_;
};

// ---- slicing ----------------------------------------------------------------

class SliceOp : public OpKernel {
 public:
  explicit SliceOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> begin, IndexVector(ctx->input(1), "begin"));
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> size, IndexVector(ctx->input(2), "size"));
    const int rank = x.shape().rank();
    if (static_cast<int>(begin.size()) != rank || static_cast<int>(size.size()) != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "begin ", DimsString(begin), " and size ", DimsString(size),
          " must have one entry per dimension of ", x.shape().DebugString()));
    }
    int64_t offset = 0;
    const Dims in_strides = Strides(x.shape().dims());
    for (int i = 0; i < rank; ++i) {
      const int64_t dim = x.shape().dim(i);
      if (size[i] == -1) size[i] = dim - begin[i];
      if (begin[i] < 0 || size[i] < 0 || begin[i] > dim || size[i] > dim - begin[i]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "slice of begin ", DimsString(begin), " and size ", DimsString(size),
            " is out of bounds in dimension ", i, " of ", x.shape().DebugString()));
      }
      offset += begin[i] * in_strides[i];
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(size));
    if (shape == x.shape()) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), shape));
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(x, out));
    GatherStrided(m, size, in_strides, offset);
    return absl::OkStatus();
  }
};

// The five masks of StridedSlice, turned into one (begin, stride, size) per
// input dimension and the output shape. This follows TensorFlow's
// canonicalization: the "sparse" spec (one entry per begin/end/strides
// element, with an ellipsis and new axes) is expanded to a "dense" spec with
// one entry per input dimension; an implicit ellipsis is appended when there
// is none.
class StridedSliceOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    auto op = std::unique_ptr<StridedSliceOp>(new StridedSliceOp());
    CKPT_ASSIGN_OR_RETURN(op->begin_mask_, IntAttrOr(c.def, "begin_mask", 0));
    CKPT_ASSIGN_OR_RETURN(op->end_mask_, IntAttrOr(c.def, "end_mask", 0));
    CKPT_ASSIGN_OR_RETURN(op->ellipsis_mask_, IntAttrOr(c.def, "ellipsis_mask", 0));
    CKPT_ASSIGN_OR_RETURN(op->new_axis_mask_, IntAttrOr(c.def, "new_axis_mask", 0));
    CKPT_ASSIGN_OR_RETURN(op->shrink_axis_mask_, IntAttrOr(c.def, "shrink_axis_mask", 0));
    return std::unique_ptr<OpKernel>(std::move(op));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> begin, IndexVector(ctx->input(1), "begin"));
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> end, IndexVector(ctx->input(2), "end"));
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> strides, IndexVector(ctx->input(3), "strides"));
    if (begin.size() != end.size() || begin.size() != strides.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "begin ", DimsString(begin), ", end ", DimsString(end), " and strides ",
          DimsString(strides), " must have the same length"));
    }
    if (begin.size() > 31) {
      return absl::InvalidArgumentError(
          absl::StrCat("a slice spec of ", begin.size(), " entries is longer than the masks"));
    }
    const int dense_rank = x.shape().rank();
    int sparse_rank = static_cast<int>(begin.size());
    uint32_t ellipsis = static_cast<uint32_t>(ellipsis_mask_);
    if ((ellipsis & (ellipsis - 1)) != 0) {
      return absl::InvalidArgumentError("a slice spec may have only one ellipsis");
    }
    int new_axes_after_ellipsis = 0;
    bool ellipsis_seen = false;
    for (int i = 0; i < sparse_rank; ++i) {
      if (ellipsis_seen && Bit(new_axis_mask_, i)) ++new_axes_after_ellipsis;
      if (Bit(ellipsis_mask_, i)) ellipsis_seen = true;
    }
    if (!ellipsis_seen) {
      ellipsis |= 1u << sparse_rank;
      ++sparse_rank;
    }

    // Dense spec, and where each output dimension comes from.
    constexpr int64_t kNewAxis = -1;
    constexpr int64_t kShrinkAxis = -2;
    std::vector<int64_t> d_begin(dense_rank, 0), d_end(dense_rank, 0), d_stride(dense_rank, 1);
    std::vector<bool> d_begin_masked(dense_rank, false), d_end_masked(dense_rank, false),
        d_shrink(dense_rank, false);
    std::vector<int64_t> gather;  // dense index, kNewAxis or kShrinkAxis
    int full = 0;
    for (int i = 0; i < sparse_rank; ++i) {
      if ((ellipsis >> i) & 1u) {
        const int next = std::min(dense_rank - (sparse_rank - i) + 1 + new_axes_after_ellipsis,
                                  dense_rank);
        for (; full < next; ++full) {
          d_begin_masked[full] = d_end_masked[full] = true;
          gather.push_back(full);
        }
      } else if (Bit(new_axis_mask_, i)) {
        gather.push_back(kNewAxis);
      } else {
        if (full == dense_rank) {
          return absl::InvalidArgumentError(
              dense_rank == 0 ? std::string("cannot slice a scalar")
                              : absl::StrCat("slice spec index ", i, " is beyond the ",
                                             dense_rank, " dimensions of the input"));
        }
        d_begin[full] = begin[i];
        d_end[full] = end[i];
        d_stride[full] = strides[i];
        d_begin_masked[full] = Bit(begin_mask_, i);
        d_end_masked[full] = Bit(end_mask_, i);
        d_shrink[full] = Bit(shrink_axis_mask_, i);
        gather.push_back(d_shrink[full] ? kShrinkAxis : full);
        ++full;
      }
    }

    // Canonical begin and size per input dimension.
    std::vector<int64_t> sizes(dense_rank);
    for (int i = 0; i < dense_rank; ++i) {
      const int64_t dim = x.shape().dim(i);
      const int64_t stride = d_stride[i];
      if (stride == 0) {
        return absl::InvalidArgumentError(absl::StrCat("strides[", i, "] must be non-zero"));
      }
      if (d_shrink[i]) {
        if (stride <= 0) {
          return absl::InvalidArgumentError("only stride 1 is allowed on an index (shrink axis)");
        }
        const int64_t b = d_begin[i] < 0 ? dim + d_begin[i] : d_begin[i];
        if (b < 0 || b >= dim) {
          return absl::InvalidArgumentError(absl::StrCat(
              "index ", d_begin[i], " is out of bounds for dimension ", i, " of size ", dim));
        }
        d_begin[i] = b;
        sizes[i] = 1;
        continue;
      }
      // Valid positions: [0, dim] going forward, [-1, dim - 1] going back
      // (the -1 being "before the first element").
      const int64_t lo = stride > 0 ? 0 : -1;
      const int64_t hi = stride > 0 ? dim : dim - 1;
      auto canonical = [&](int64_t v, bool masked, bool is_end) {
        if (masked) return (stride > 0) != is_end ? lo : hi;
        const int64_t fwd = v < 0 ? dim + v : v;
        return std::clamp(fwd, lo, hi);
      };
      const int64_t b = canonical(d_begin[i], d_begin_masked[i], false);
      const int64_t e = canonical(d_end[i], d_end_masked[i], true);
      d_begin[i] = b;
      const int64_t length = e - b;
      if (length == 0 || (length < 0) != (stride < 0)) {
        sizes[i] = 0;
      } else {
        sizes[i] = length / stride + (length % stride != 0 ? 1 : 0);
      }
    }

    std::vector<int64_t> out_dims;
    for (int64_t g : gather) {
      if (g == kNewAxis) {
        out_dims.push_back(1);
      } else if (g != kShrinkAxis) {
        out_dims.push_back(sizes[g]);
      }
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(out_dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), shape));
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(x, out));
    const Dims in_strides = Strides(x.shape().dims());
    Dims steps(dense_rank);
    int64_t offset = 0;
    for (int i = 0; i < dense_rank; ++i) {
      offset += d_begin[i] * in_strides[i];
      steps[i] = d_stride[i] * in_strides[i];
    }
    GatherStrided(m, sizes, steps, offset);
    return absl::OkStatus();
  }

 private:
  StridedSliceOp() = default;
  static bool Bit(int64_t mask, int i) { return ((mask >> i) & 1) != 0; }
  int64_t begin_mask_ = 0, end_mask_ = 0, ellipsis_mask_ = 0, new_axis_mask_ = 0,
          shrink_axis_mask_ = 0;
};

class TransposeOp : public OpKernel {
 public:
  explicit TransposeOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> perm, IndexVector(ctx->input(1), "perm"));
    const int rank = x.shape().rank();
    std::vector<bool> seen(rank, false);
    bool valid = static_cast<int>(perm.size()) == rank;
    for (size_t i = 0; valid && i < perm.size(); ++i) {
      valid = perm[i] >= 0 && perm[i] < rank && !seen[perm[i]];
      if (valid) seen[perm[i]] = true;
    }
    if (!valid) {
      return absl::InvalidArgumentError(absl::StrCat(
          "perm ", DimsString(perm), " is not a permutation of the dimensions of ",
          x.shape().DebugString()));
    }
    const Dims in_strides = Strides(x.shape().dims());
    std::vector<int64_t> dims(rank);
    Dims strides(rank);
    bool identity = true;
    for (int i = 0; i < rank; ++i) {
      dims[i] = x.shape().dim(perm[i]);
      strides[i] = in_strides[perm[i]];
      identity = identity && perm[i] == i;
    }
    if (identity) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), shape));
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(x, out));
    GatherStrided(m, dims, strides, 0);
    return absl::OkStatus();
  }
};

// ---- broadcasting gradients -------------------------------------------------

class BroadcastGradientArgsOp : public OpKernel {
 public:
  explicit BroadcastGradientArgsOp(const KernelConstruction&) {}
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& t0 = ctx->input(0);
    const Tensor& t1 = ctx->input(1);
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> s0, IndexVector(t0, "s0"));
    CKPT_ASSIGN_OR_RETURN(std::vector<int64_t> s1, IndexVector(t1, "s1"));
    std::vector<int64_t> r0, r1;
    // Equal shapes broadcast nothing: no reductions, even over 1s.
    if (s0 != s1) {
      const size_t n = std::max(s0.size(), s1.size());
      // Aligned on the right; walked from the innermost dimension.
      for (size_t k = 0; k < n; ++k) {
        const int64_t a = k < s0.size() ? s0[s0.size() - 1 - k] : 1;
        const int64_t b = k < s1.size() ? s1[s1.size() - 1 - k] : 1;
        const int64_t axis = static_cast<int64_t>(n - 1 - k);
        if (a == b) {
          if (a == 1) {
            r0.push_back(axis);
            r1.push_back(axis);
          }
        } else if (a == 1) {
          r0.push_back(axis);
        } else if (b == 1) {
          r1.push_back(axis);
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              "incompatible shapes: ", DimsString(s0), " vs. ", DimsString(s1)));
        }
      }
      std::reverse(r0.begin(), r0.end());
      std::reverse(r1.begin(), r1.end());
    }
    const DType dtype = t0.dtype();
    CKPT_ASSIGN_OR_RETURN(
        Tensor * o0,
        ctx->allocate_output(0, dtype, TensorShape({static_cast<int64_t>(r0.size())})));
    CKPT_RETURN_IF_ERROR(WriteIndexValues(r0, o0));
    CKPT_ASSIGN_OR_RETURN(
        Tensor * o1,
        ctx->allocate_output(1, dtype, TensorShape({static_cast<int64_t>(r1.size())})));
    return WriteIndexValues(r1, o1);
  }
};

// ---- gathering --------------------------------------------------------------

// Gather (axis 0) and GatherV2 (axis as a third input): the output is
// params.shape[:axis] + indices.shape + params.shape[axis+1:].
template <bool kHasAxisInput>
class GatherOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(int64_t batch_dims, IntAttrOr(c.def, "batch_dims", 0));
    if (batch_dims != 0) {
      return absl::UnimplementedError("GatherV2 with batch_dims != 0 is not supported");
    }
    return std::unique_ptr<OpKernel>(new GatherOp());
  }
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& params = ctx->input(0);
    const Tensor& indices_t = ctx->input(1);
    int64_t axis_value = 0;
    if (kHasAxisInput) {
      CKPT_ASSIGN_OR_RETURN(axis_value, IndexScalar(ctx->input(2), "axis"));
    }
    const int rank = params.shape().rank();
    if (rank == 0) return absl::InvalidArgumentError("params must be at least a vector");
    CKPT_ASSIGN_OR_RETURN(int axis, CanonicalAxis(axis_value, rank, "gather axis"));
    std::vector<int64_t> indices;
    if (indices_t.dtype() == DT_INT16) {
      auto v = indices_t.flat<int16_t>();
      indices.assign(v.begin(), v.end());
    } else {
      CKPT_ASSIGN_OR_RETURN(indices, IndexValues(indices_t, "indices"));
    }
    const int64_t limit = params.shape().dim(axis);
    for (size_t i = 0; i < indices.size(); ++i) {
      if (indices[i] < 0 || indices[i] >= limit) {
        return absl::InvalidArgumentError(absl::StrCat("indices[", i, "] = ", indices[i],
                                                       " is not in [0, ", limit, ")"));
      }
    }
    std::vector<int64_t> dims(params.shape().dims().begin(),
                              params.shape().dims().begin() + axis);
    for (int64_t d : indices_t.shape().dims()) dims.push_back(d);
    for (int k = axis + 1; k < rank; ++k) dims.push_back(params.shape().dim(k));
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, params.dtype(), shape));
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(params, out));
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < axis; ++k) outer *= params.shape().dim(k);
    for (int k = axis + 1; k < rank; ++k) inner *= params.shape().dim(k);
    const int64_t n = static_cast<int64_t>(indices.size());
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < n; ++i) {
        m.Copy((o * n + i) * inner, (o * limit + indices[i]) * inner, inner);
      }
    }
    return absl::OkStatus();
  }

 private:
  GatherOp() = default;
};

// The output has indices' shape with a new dimension of `depth` at `axis`
// (-1: last); the element is on_value where the index equals the position
// along that dimension and off_value elsewhere (so an index outside
// [0, depth) gives a row of off_values).
class OneHotOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(int64_t axis, IntAttrOr(c.def, "axis", -1));
    if (axis < -1) {
      return absl::InvalidArgumentError(absl::StrCat("OneHot axis ", axis, " must be >= -1"));
    }
    return std::unique_ptr<OpKernel>(new OneHotOp(axis));
  }
  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& indices_t = ctx->input(0);
    CKPT_ASSIGN_OR_RETURN(int64_t depth, IndexScalar(ctx->input(1), "depth"));
    const Tensor& on = ctx->input(2);
    const Tensor& off = ctx->input(3);
    if (on.shape().rank() != 0 || off.shape().rank() != 0 || on.dtype() != off.dtype()) {
      return absl::InvalidArgumentError("on_value and off_value must be scalars of one dtype");
    }
    if (depth < 0) {
      return absl::InvalidArgumentError(absl::StrCat("depth ", depth, " must be non-negative"));
    }
    std::vector<int64_t> indices;
    if (indices_t.dtype() == DT_UINT8) {
      auto v = indices_t.flat<uint8_t>();
      indices.assign(v.begin(), v.end());
    } else {
      CKPT_ASSIGN_OR_RETURN(indices, IndexValues(indices_t, "indices"));
    }
    const int rank = indices_t.shape().rank();
    if (axis_ > rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "OneHot axis ", axis_, " is out of range for indices of rank ", rank));
    }
    const int axis = axis_ == -1 ? rank : static_cast<int>(axis_);
    std::vector<int64_t> dims = indices_t.shape().dims();
    dims.insert(dims.begin() + axis, depth);
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, MakeShape(dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, on.dtype(), shape));
    CKPT_RETURN_IF_ERROR(FillWith(off, out));
    CKPT_ASSIGN_OR_RETURN(ElementMover m, ElementMover::Make(on, out));
    // indices viewed as [outer, inner] around the new axis.
    int64_t outer = 1;
    for (int k = 0; k < axis; ++k) outer *= dims[k];
    const int64_t inner = outer == 0 ? 0 : static_cast<int64_t>(indices.size()) / outer;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t idx = indices[o * inner + j];
        if (idx >= 0 && idx < depth) m.Copy((o * depth + idx) * inner + j, 0, 1);
      }
    }
    return absl::OkStatus();
  }

 private:
  explicit OneHotOp(int64_t axis) : axis_(axis) {}
  int64_t axis_;
};

}  // namespace

void RegisterArrayKernels(KernelRegistry* r) {
  r->Register("Shape", ShapeOp::Create);
  r->Register("Size", SizeOp::Create);
  r->Register("Rank", MakeKernel<RankOp>);
  r->Register("Reshape", MakeKernel<ReshapeOp>);
  r->Register("ExpandDims", MakeKernel<ExpandDimsOp>);
  r->Register("Squeeze", SqueezeOp::Create);
  r->Register("StopGradient", MakeKernel<PassThroughOp>);
  r->Register("Fill", MakeKernel<FillOp>);
  r->Register("ZerosLike", MakeKernel<ZerosLikeOp>);
  r->Register("OnesLike", MakeKernel<OnesLikeOp>);
  r->Register("Tile", MakeKernel<TileOp>);
  r->Register("ConcatV2", MakeKernel<ConcatOp<false>>);
  r->Register("Concat", MakeKernel<ConcatOp<true>>);
  r->Register("Pack", PackOp::Create);
  r->Register("Unpack", UnpackOp::Create);
  r->Register("Slice", MakeKernel<SliceOp>);
  r->Register("StridedSlice", StridedSliceOp::Create);
  r->Register("Transpose", MakeKernel<TransposeOp>);
  r->Register("BroadcastGradientArgs", MakeKernel<BroadcastGradientArgsOp>);
  r->Register("Gather", GatherOp<false>::Create);
  r->Register("GatherV2", GatherOp<true>::Create);
  r->Register("OneHot", OneHotOp::Create);
}

}  // namespace runtime
}  // namespace ckpt
