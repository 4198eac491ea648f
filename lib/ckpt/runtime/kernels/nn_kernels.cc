// Neural-network kernels: activations and their gradients, softmax,
// bias addition, cross-entropy losses and L2Loss, with TensorFlow's
// semantics. Softmax and the losses subtract each row's maximum before
// exponentiating, so large logits do not overflow.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/cwise_ops.h"
#include "ckpt/runtime/kernels/elementwise.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/runtime/kernels/type_dispatch.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

// ---------------------------------------------------------------------------
// Activations.

// NaN passes through (max(NaN, 0) is NaN).
struct ReluFn {
  template <typename T>
  static T Apply(T x) {
    return (x > T(0) || IsNan(x)) ? x : T(0);
  }
};
// ReluGrad(gradients, features).
struct ReluGradFn {
  template <typename T>
  static T Apply(T gradient, T feature) {
    return feature > T(0) ? gradient : T(0);
  }
};
struct SigmoidFn {
  template <typename T>
  static T Apply(T x) {
    return T(1) / (T(1) + std::exp(-x));
  }
};
// SigmoidGrad(y, dy) = dy * y * (1 - y).
struct SigmoidGradFn {
  template <typename T>
  static T Apply(T y, T dy) {
    return (dy * y) * (T(1) - y);
  }
};
struct TanhFn {
  template <typename T>
  static T Apply(T x) {
    return std::tanh(x);
  }
};
// TanhGrad(y, dy) = dy * (1 - y^2).
struct TanhGradFn {
  template <typename T>
  static T Apply(T y, T dy) {
    return dy * (T(1) - y * y);
  }
};
struct AddFn {
  template <typename T>
  static T Apply(T a, T b) {
    return WrapAdd(a, b);
  }
};

// ---------------------------------------------------------------------------
// Softmax and LogSoftmax over the last dimension.

template <bool kLog>
class SoftmaxOp : public OpKernel {
 public:
  explicit SoftmaxOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& logits = ctx->input(0);
    if (logits.shape().rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "logits must have at least one dimension, got shape ", logits.shape().DebugString()));
    }
    const char* op = kLog ? "LogSoftmax" : "Softmax";
    return DispatchType<kFloatTypes>(logits.dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * out,
                            ctx->allocate_output(0, logits.dtype(), logits.shape()));
      const int64_t classes = logits.shape().dim(logits.shape().rank() - 1);
      if (classes == 0) return absl::OkStatus();
      const int64_t rows = logits.NumElements() / classes;
      const T* x = Data<T>(logits);
      T* y = MutableData<T>(out);
      for (int64_t r = 0; r < rows; ++r) Row<T>(x + r * classes, y + r * classes, classes);
      return absl::OkStatus();
    });
  }

 private:
  template <typename T>
  static void Row(const T* x, T* y, int64_t n) {
    T max = x[0];
    for (int64_t j = 1; j < n; ++j) max = std::max(max, x[j]);
    T sum = T(0);
    if constexpr (kLog) {
      for (int64_t j = 0; j < n; ++j) {
        y[j] = x[j] - max;
        sum += std::exp(y[j]);
      }
      const T log_sum = std::log(sum);
      for (int64_t j = 0; j < n; ++j) y[j] -= log_sum;
    } else {
      for (int64_t j = 0; j < n; ++j) {
        y[j] = std::exp(x[j] - max);
        sum += y[j];
      }
      // Multiplied by the reciprocal, as TensorFlow does.
      const T inverse = T(1) / sum;
      for (int64_t j = 0; j < n; ++j) y[j] *= inverse;
    }
  }
};

// ---------------------------------------------------------------------------
// BiasAdd / BiasAddV1 / BiasAddGrad.

// The channel dimension: the last one (NHWC), or dimension 1 for NCHW
// inputs of rank 3 or more.
absl::Status ReadDataFormat(const KernelConstruction& c, bool* nchw) {
  *nchw = false;
  if (c.def.attr().count("data_format") == 0) return absl::OkStatus();
  CKPT_ASSIGN_OR_RETURN(std::string format, GetStringAttr(c.def, "data_format"));
  if (format == "NCHW") {
    *nchw = true;
  } else if (format != "NHWC") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format must be NHWC or NCHW, got '", format, "'"));
  }
  return absl::OkStatus();
}

// x viewed as [outer, channels, inner].
struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};

absl::Status GetChannelLayout(const TensorShape& shape, bool nchw, ChannelLayout* layout) {
  if (shape.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("input must be at least 2-D, got shape ", shape.DebugString()));
  }
  const int channel_dim = (nchw && shape.rank() >= 3) ? 1 : shape.rank() - 1;
  *layout = ChannelLayout();
  for (int i = 0; i < shape.rank(); ++i) {
    if (i < channel_dim) layout->outer *= shape.dim(i);
    if (i == channel_dim) layout->channels = shape.dim(i);
    if (i > channel_dim) layout->inner *= shape.dim(i);
  }
  return absl::OkStatus();
}

class BiasAddOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    bool nchw = false;
    CKPT_RETURN_IF_ERROR(ReadDataFormat(c, &nchw));
    return std::unique_ptr<OpKernel>(new BiasAddOp(nchw));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    ChannelLayout l;
    CKPT_RETURN_IF_ERROR(GetChannelLayout(value.shape(), nchw_, &l));
    if (bias.shape().rank() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("bias must be 1-D, got shape ", bias.shape().DebugString()));
    }
    if (bias.shape().dim(0) != l.channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bias has ", bias.shape().dim(0), " elements but the input has ", l.channels,
          " channels: bias ", bias.shape().DebugString(), ", input ",
          value.shape().DebugString()));
    }
    if (bias.dtype() != value.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat("bias is ", DTypeName(bias.dtype()),
                                                     " but the input is ",
                                                     DTypeName(value.dtype())));
    }
    return DispatchType<kRealNumberTypes>(value.dtype(), "BiasAdd", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      namespace ei = elementwise_internal;
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, value.dtype(), value.shape()));
      const T* x = Data<T>(value);
      const T* b = Data<T>(bias);
      T* y = MutableData<T>(out);
      if (l.inner == 1) {
        for (int64_t o = 0; o < l.outer; ++o) {
          ei::LoopSame<T, T, AddFn>(x + o * l.channels, b, y + o * l.channels, l.channels);
        }
      } else {
        for (int64_t o = 0; o < l.outer; ++o) {
          for (int64_t c = 0; c < l.channels; ++c) {
            const int64_t offset = (o * l.channels + c) * l.inner;
            ei::LoopScalarY<T, T, AddFn>(x + offset, b[c], y + offset, l.inner);
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  explicit BiasAddOp(bool nchw) : nchw_(nchw) {}
  bool nchw_;
};

// The sum of out_backprop over every dimension but the channel one.
class BiasAddGradOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    bool nchw = false;
    CKPT_RETURN_IF_ERROR(ReadDataFormat(c, &nchw));
    return std::unique_ptr<OpKernel>(new BiasAddGradOp(nchw));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& grad = ctx->input(0);
    ChannelLayout l;
    CKPT_RETURN_IF_ERROR(GetChannelLayout(grad.shape(), nchw_, &l));
    return DispatchType<kRealNumberTypes>(grad.dtype(), "BiasAddGrad", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims({l.channels}));
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, grad.dtype(), shape));
      const T* g = Data<T>(grad);
      T* s = MutableData<T>(out);
      std::fill(s, s + l.channels, T(0));
      for (int64_t o = 0; o < l.outer; ++o) {
        for (int64_t c = 0; c < l.channels; ++c) {
          const T* p = g + (o * l.channels + c) * l.inner;
          T acc = s[c];
          for (int64_t i = 0; i < l.inner; ++i) acc = WrapAdd(acc, p[i]);
          s[c] = acc;
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  explicit BiasAddGradOp(bool nchw) : nchw_(nchw) {}
  bool nchw_;
};

// ---------------------------------------------------------------------------
// Cross entropy.

// Shared by both losses: for one row of logits, its maximum and the sum of
// exp(logit - max), with exp(logit - max) written to `exps`.
template <typename T>
void ShiftedExps(const T* logits, int64_t n, T* exps, T* max_out, T* sum_out) {
  T max = logits[0];
  for (int64_t j = 1; j < n; ++j) max = std::max(max, logits[j]);
  T sum = T(0);
  for (int64_t j = 0; j < n; ++j) {
    exps[j] = std::exp(logits[j] - max);
    sum += exps[j];
  }
  *max_out = max;
  *sum_out = sum;
}

// SoftmaxCrossEntropyWithLogits(features [batch, classes], labels
// [batch, classes]) -> loss [batch], backprop [batch, classes]. Either
// operand may have 1 in a dimension where the other does not (broadcast).
class SoftmaxXentOp : public OpKernel {
 public:
  explicit SoftmaxXentOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    if (features.dtype() != labels.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat("logits are ", DTypeName(features.dtype()),
                                                     " but labels are ",
                                                     DTypeName(labels.dtype())));
    }
    const TensorShape& fs = features.shape();
    const TensorShape& ls = labels.shape();
    if (fs.rank() != 2 || ls.rank() != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "logits and labels must be 2-D: logits ", fs.DebugString(), ", labels ",
          ls.DebugString()));
    }
    int64_t dims[2];
    for (int i = 0; i < 2; ++i) {
      const int64_t a = fs.dim(i), b = ls.dim(i);
      if (a != b && a != 1 && b != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "logits and labels must be broadcastable: logits ", fs.DebugString(), ", labels ",
            ls.DebugString()));
      }
      dims[i] = a == 1 ? b : a;
    }
    const int64_t batch = dims[0], classes = dims[1];
    return DispatchType<kFloatTypes>(features.dtype(), "SoftmaxCrossEntropyWithLogits",
                                     [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(TensorShape loss_shape, TensorShape::FromDims({batch}));
      CKPT_ASSIGN_OR_RETURN(TensorShape backprop_shape, TensorShape::FromDims({batch, classes}));
      CKPT_ASSIGN_OR_RETURN(Tensor * loss_t,
                            ctx->allocate_output(0, features.dtype(), loss_shape));
      CKPT_ASSIGN_OR_RETURN(Tensor * backprop_t,
                            ctx->allocate_output(1, features.dtype(), backprop_shape));
      T* loss = MutableData<T>(loss_t);
      T* backprop = MutableData<T>(backprop_t);
      if (classes == 0) {
        std::fill(loss, loss + batch, T(0));
        return absl::OkStatus();
      }
      // Broadcast operands are expanded into rows of `classes` values.
      std::vector<T> logits_row(static_cast<size_t>(classes));
      std::vector<T> labels_row(static_cast<size_t>(classes));
      const T* f = Data<T>(features);
      const T* y = Data<T>(labels);
      for (int64_t b = 0; b < batch; ++b) {
        const T* logits = Row(f, fs, b, classes, &logits_row);
        const T* lab = Row(y, ls, b, classes, &labels_row);
        T* bp = backprop + b * classes;
        T max, sum;
        ShiftedExps(logits, classes, bp, &max, &sum);
        const T log_sum = std::log(sum);
        T l = T(0);
        for (int64_t j = 0; j < classes; ++j) l += lab[j] * (log_sum - (logits[j] - max));
        loss[b] = l;
        for (int64_t j = 0; j < classes; ++j) bp[j] = bp[j] / sum - lab[j];
      }
      return absl::OkStatus();
    });
  }

 private:
  // Row b of a [rows, cols] operand broadcast to [*, classes].
  template <typename T>
  static const T* Row(const T* data, const TensorShape& shape, int64_t b, int64_t classes,
                      std::vector<T>* scratch) {
    const T* row = data + (shape.dim(0) == 1 ? 0 : b) * shape.dim(1);
    if (shape.dim(1) == classes) return row;
    std::fill(scratch->begin(), scratch->end(), row[0]);
    return scratch->data();
  }
};

// SparseSoftmaxCrossEntropyWithLogits(features [batch, classes], labels
// [batch] of class indices) -> loss [batch], backprop [batch, classes].
class SparseSoftmaxXentOp : public OpKernel {
 public:
  explicit SparseSoftmaxXentOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& features = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    const TensorShape& fs = features.shape();
    if (fs.rank() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("logits must be 2-D, got shape ", fs.DebugString()));
    }
    if (labels.shape().rank() != 1 || labels.shape().dim(0) != fs.dim(0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "labels must be 1-D with one entry per row of logits: logits ", fs.DebugString(),
          ", labels ", labels.shape().DebugString()));
    }
    const int64_t batch = fs.dim(0), classes = fs.dim(1);
    if (classes == 0 && batch > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("logits must have at least one class, got shape ", fs.DebugString()));
    }
    std::vector<int64_t> label(static_cast<size_t>(batch));
    if (labels.dtype() == DT_INT32) {
      const int32_t* p = Data<int32_t>(labels);
      std::copy(p, p + batch, label.begin());
    } else if (labels.dtype() == DT_INT64) {
      const int64_t* p = Data<int64_t>(labels);
      std::copy(p, p + batch, label.begin());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("labels must be int32 or int64, got ", DTypeName(labels.dtype())));
    }
    for (int64_t b = 0; b < batch; ++b) {
      if (label[b] < 0 || label[b] >= classes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "label ", label[b], " at index ", b, " is outside the valid range [0, ", classes,
            ")"));
      }
    }
    return DispatchType<kFloatTypes>(features.dtype(), "SparseSoftmaxCrossEntropyWithLogits",
                                     [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(TensorShape loss_shape, TensorShape::FromDims({batch}));
      CKPT_ASSIGN_OR_RETURN(Tensor * loss_t,
                            ctx->allocate_output(0, features.dtype(), loss_shape));
      CKPT_ASSIGN_OR_RETURN(Tensor * backprop_t,
                            ctx->allocate_output(1, features.dtype(), fs));
      T* loss = MutableData<T>(loss_t);
      T* backprop = MutableData<T>(backprop_t);
      const T* f = Data<T>(features);
      for (int64_t b = 0; b < batch; ++b) {
        const T* logits = f + b * classes;
        T* bp = backprop + b * classes;
        T max, sum;
        ShiftedExps(logits, classes, bp, &max, &sum);
        loss[b] = std::log(sum) - (logits[label[b]] - max);
        for (int64_t j = 0; j < classes; ++j) bp[j] = bp[j] / sum;
        bp[label[b]] -= T(1);
      }
      return absl::OkStatus();
    });
  }
};

// L2Loss(t) = sum(t^2) / 2, a scalar.
class L2LossOp : public OpKernel {
 public:
  explicit L2LossOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    return DispatchType<kFloatTypes>(x.dtype(), "L2Loss", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), TensorShape()));
      const T* p = Data<T>(x);
      T sum = T(0);
      const int64_t n = x.NumElements();
      for (int64_t i = 0; i < n; ++i) sum += p[i] * p[i] * T(0.5);
      MutableData<T>(out)[0] = sum;
      return absl::OkStatus();
    });
  }
};

}  // namespace

void RegisterNnKernels(KernelRegistry* r) {
  r->Register("Relu", MakeKernel<UnaryOpKernel<ReluFn, kRealNumberTypes>>);
  r->Register("ReluGrad", MakeKernel<BinaryOpKernel<ReluGradFn, kRealNumberTypes, kSameShape>>);
  r->Register("Sigmoid", MakeKernel<UnaryOpKernel<SigmoidFn, kFloatTypes>>);
  r->Register("SigmoidGrad", MakeKernel<BinaryOpKernel<SigmoidGradFn, kFloatTypes, kSameShape>>);
  r->Register("Tanh", MakeKernel<UnaryOpKernel<TanhFn, kFloatTypes>>);
  r->Register("TanhGrad", MakeKernel<BinaryOpKernel<TanhGradFn, kFloatTypes, kSameShape>>);
  r->Register("Softmax", MakeKernel<SoftmaxOp<false>>);
  r->Register("LogSoftmax", MakeKernel<SoftmaxOp<true>>);
  r->Register("BiasAdd", BiasAddOp::Create);
  r->Register("BiasAddV1", BiasAddOp::Create);
  r->Register("BiasAddGrad", BiasAddGradOp::Create);
  r->Register("SoftmaxCrossEntropyWithLogits", MakeKernel<SoftmaxXentOp>);
  r->Register("SparseSoftmaxCrossEntropyWithLogits", MakeKernel<SparseSoftmaxXentOp>);
  r->Register("L2Loss", MakeKernel<L2LossOp>);
}

}  // namespace runtime
}  // namespace ckpt
