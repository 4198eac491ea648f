// Math kernels: coefficient-wise arithmetic, comparisons and logic, AddN,
// MatMul, Cast, ArgMax/ArgMin, reductions, Range and Select, with
// TensorFlow's semantics (integer division truncates for Div and floors for
// FloorDiv/FloorMod; integer overflow wraps; Maximum/Minimum propagate NaN).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "ckpt/runtime/kernel.h"
#include "ckpt/runtime/kernels/cwise_ops.h"
#include "ckpt/runtime/kernels/elementwise.h"
#include "ckpt/runtime/kernels/matmul.h"
#include "ckpt/runtime/kernels/register.h"
#include "ckpt/runtime/kernels/type_dispatch.h"
#include "ckpt/status_macros.h"

namespace ckpt {
namespace runtime {
namespace {

// ---------------------------------------------------------------------------
// Coefficient-wise functors.

struct AddFn {
  template <typename T>
  static T Apply(const T& a, const T& b) {
    return WrapAdd(a, b);
  }
};
struct SubFn {
  template <typename T>
  static T Apply(T a, T b) {
    return WrapSub(a, b);
  }
};
struct MulFn {
  template <typename T>
  static T Apply(T a, T b) {
    return WrapMul(a, b);
  }
};
// Truncating for integers (the divisor was checked for zero; the one
// quotient that overflows, MIN / -1, wraps instead of trapping).
struct DivFn {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == -1) return WrapNeg(a);
    }
    return a / b;
  }
};
struct FloorDivFn {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == -1) return WrapNeg(a);
      const T q = a / b;
      return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
    } else {
      return std::floor(a / b);
    }
  }
};
// The remainder takes the divisor's sign: x == FloorDiv(x, y) * y + FloorMod(x, y).
struct FloorModFn {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      if (b == -1) return 0;
      const T r = a % b;
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    } else {
      const T r = std::fmod(a, b);
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
  }
};
struct MaximumFn {
  template <typename T>
  static T Apply(T a, T b) {
    return (IsNan(a) || a > b) ? a : b;
  }
};
struct MinimumFn {
  template <typename T>
  static T Apply(T a, T b) {
    return (IsNan(a) || a < b) ? a : b;
  }
};
// Integer exponents are non-negative (checked before).
struct PowFn {
  template <typename T>
  static T Apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      T result = 1;
      T base = a;
      for (T e = b; e > 0; e >>= 1) {
        if ((e & 1) != 0) result = WrapMul(result, base);
        if (e > 1) base = WrapMul(base, base);
      }
      return result;
    } else {
      return std::pow(a, b);
    }
  }
};
struct SquaredDifferenceFn {
  template <typename T>
  static T Apply(T a, T b) {
    const T d = WrapSub(a, b);
    return WrapMul(d, d);
  }
};

struct EqualFn {
  template <typename T>
  static bool Apply(const T& a, const T& b) {
    return a == b;
  }
};
struct NotEqualFn {
  template <typename T>
  static bool Apply(const T& a, const T& b) {
    return a != b;
  }
};
struct GreaterFn {
  template <typename T>
  static bool Apply(T a, T b) {
    return a > b;
  }
};
struct GreaterEqualFn {
  template <typename T>
  static bool Apply(T a, T b) {
    return a >= b;
  }
};
struct LessFn {
  template <typename T>
  static bool Apply(T a, T b) {
    return a < b;
  }
};
struct LessEqualFn {
  template <typename T>
  static bool Apply(T a, T b) {
    return a <= b;
  }
};
struct LogicalAndFn {
  static bool Apply(bool a, bool b) { return a && b; }
};
struct LogicalOrFn {
  static bool Apply(bool a, bool b) { return a || b; }
};

struct NegFn {
  template <typename T>
  static T Apply(T a) {
    return WrapNeg(a);
  }
};
struct SquareFn {
  template <typename T>
  static T Apply(T a) {
    return WrapMul(a, a);
  }
};
struct SqrtFn {
  template <typename T>
  static T Apply(T a) {
    return std::sqrt(a);
  }
};
struct RsqrtFn {
  template <typename T>
  static T Apply(T a) {
    return T(1) / std::sqrt(a);
  }
};
struct ReciprocalFn {
  template <typename T>
  static T Apply(T a) {
    return T(1) / a;
  }
};
struct ExpFn {
  template <typename T>
  static T Apply(T a) {
    return std::exp(a);
  }
};
struct LogFn {
  template <typename T>
  static T Apply(T a) {
    return std::log(a);
  }
};
struct AbsFn {
  template <typename T>
  static T Apply(T a) {
    if constexpr (std::is_integral_v<T>) {
      return a < 0 ? WrapNeg(a) : a;
    } else {
      return std::fabs(a);
    }
  }
};
// -1, 0 or 1; a NaN stays NaN and a zero keeps its sign.
struct SignFn {
  template <typename T>
  static T Apply(T a) {
    if (a > T(0)) return T(1);
    if (a < T(0)) return T(-1);
    return a;
  }
};
struct FloorFn {
  template <typename T>
  static T Apply(T a) {
    return std::floor(a);
  }
};
struct CeilFn {
  template <typename T>
  static T Apply(T a) {
    return std::ceil(a);
  }
};
// Halves round to even, as TensorFlow's Round does.
struct RoundFn {
  template <typename T>
  static T Apply(T a) {
    if constexpr (std::is_integral_v<T>) {
      return a;
    } else {
      return std::nearbyint(a);
    }
  }
};
struct LogicalNotFn {
  static bool Apply(bool a) { return !a; }
};

// Gradients of y = f(x) given y and dy, evaluated as TensorFlow's functors do.
struct SqrtGradFn {
  template <typename T>
  static T Apply(T y, T dy) {
    return (T(0.5) * dy) / y;
  }
};
struct RsqrtGradFn {
  template <typename T>
  static T Apply(T y, T dy) {
    return (T(-0.5) * (dy * y)) * (y * y);
  }
};
struct ReciprocalGradFn {
  template <typename T>
  static T Apply(T y, T dy) {
    return (-y * y) * dy;
  }
};

// Equal and NotEqual: with incompatible_shape_error = false, operands that do
// not broadcast compare as wholly unequal (a scalar result) instead of failing.
template <typename F, bool kUnequalValue>
class EqualityOpKernel : public OpKernel {
 public:
  explicit EqualityOpKernel(const KernelConstruction& c) {
    absl::StatusOr<bool> attr = GetBoolAttr(c.def, "incompatible_shape_error");
    incompatible_shape_error_ = attr.ok() ? *attr : true;
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    if (!incompatible_shape_error_ && x.dtype() == y.dtype()) {
      BinaryPlan plan;
      if (!MakeBinaryPlan(x.shape(), y.shape(), &plan).ok()) {
        CKPT_ASSIGN_OR_RETURN(Tensor * z, ctx->allocate_output(0, DT_BOOL, TensorShape()));
        MutableData<bool>(z)[0] = kUnequalValue;
        return absl::OkStatus();
      }
    }
    return BinaryOpKernel<F, kRealNumberTypes | kBoolBit | kStringBit, kBoolOutput>::Run(ctx);
  }

 private:
  bool incompatible_shape_error_ = true;
};

// ---------------------------------------------------------------------------
// AddN: the sum of N tensors of one shape, added in input order.

class AddNOp : public OpKernel {
 public:
  explicit AddNOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const int n = ctx->num_inputs();
    if (n == 0) return absl::InvalidArgumentError("AddN needs at least one input");
    const Tensor& first = ctx->input(0);
    for (int i = 1; i < n; ++i) {
      const Tensor& t = ctx->input(i);
      if (t.dtype() != first.dtype() || t.shape() != first.shape()) {
        return absl::InvalidArgumentError(
            absl::StrCat("AddN inputs must have one dtype and shape: input 0 is ",
                         first.DebugString(), ", input ", i, " is ", t.DebugString()));
      }
    }
    if (n == 1) {
      ctx->set_output(0, first);
      return absl::OkStatus();
    }
    return DispatchType<kRealNumberTypes>(first.dtype(), "AddN", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, first.dtype(), first.shape()));
      const int64_t count = first.NumElements();
      T* o = MutableData<T>(out);
      elementwise_internal::LoopSame<T, T, AddFn>(Data<T>(first), Data<T>(ctx->input(1)), o,
                                                  count);
      for (int i = 2; i < n; ++i) Accumulate(Data<T>(ctx->input(i)), o, count);
      return absl::OkStatus();
    });
  }

 private:
  template <typename T>
  static void Accumulate(const T* __restrict x, T* __restrict acc, int64_t count) {
    for (int64_t j = 0; j < count; ++j) acc[j] = WrapAdd(acc[j], x[j]);
  }
};

// ---------------------------------------------------------------------------
// MatMul.

class MatMulOp : public OpKernel {
 public:
  explicit MatMulOp(const KernelConstruction& c) {
    absl::StatusOr<bool> ta = GetBoolAttr(c.def, "transpose_a");
    absl::StatusOr<bool> tb = GetBoolAttr(c.def, "transpose_b");
    transpose_a_ = ta.ok() && *ta;
    transpose_b_ = tb.ok() && *tb;
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    for (int i = 0; i < 2; ++i) {
      const Tensor& t = ctx->input(i);
      if (t.shape().rank() != 2) {
        return absl::InvalidArgumentError(absl::StrCat(
            "In[", i, "] is not a matrix: it has shape ", t.shape().DebugString()));
      }
    }
    if (a.dtype() != b.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat("MatMul operands have different dtypes: ",
                                                     DTypeName(a.dtype()), " vs. ",
                                                     DTypeName(b.dtype())));
    }
    const int64_t m = a.shape().dim(transpose_a_ ? 1 : 0);
    const int64_t k = a.shape().dim(transpose_a_ ? 0 : 1);
    const int64_t k2 = b.shape().dim(transpose_b_ ? 1 : 0);
    const int64_t n = b.shape().dim(transpose_b_ ? 0 : 1);
    if (k != k2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "matrix size-incompatible: In[0]: ", a.shape().DebugString(),
          transpose_a_ ? " (transposed)" : "", ", In[1]: ", b.shape().DebugString(),
          transpose_b_ ? " (transposed)" : "", ": inner dimensions ", k, " and ", k2,
          " differ"));
    }
    return DispatchType<kRealNumberTypes>(a.dtype(), "MatMul", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims({m, n}));
      CKPT_ASSIGN_OR_RETURN(Tensor * c, ctx->allocate_output(0, a.dtype(), shape));
      MatMul<T>(Data<T>(a), Data<T>(b), MutableData<T>(c), m, k, n, transpose_a_, transpose_b_);
      return absl::OkStatus();
    });
  }

 private:
  bool transpose_a_ = false;
  bool transpose_b_ = false;
};

// ---------------------------------------------------------------------------
// Cast.

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Rounds to nearest, ties to even; overflow gives infinity, NaN a quiet NaN.
uint16_t FloatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const uint32_t abs = bits & 0x7fffffffu;
  if (abs >= 0x47800000u) {  // >= 2^16 (or inf, NaN): beyond half's range
    return static_cast<uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (abs < 0x38800000u) {  // below 2^-14: a half subnormal or zero
    // Adding 0.5 shifts the value so that float's own rounding of the sum
    // rounds it to a multiple of 2^-24, which is then the low bits.
    float magnitude;
    std::memcpy(&magnitude, &abs, sizeof(magnitude));
    const float shifted = magnitude + 0.5f;
    uint32_t shifted_bits;
    std::memcpy(&shifted_bits, &shifted, sizeof(shifted_bits));
    return static_cast<uint16_t>(sign | (shifted_bits - 0x3f000000u));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits; a
  // carry out of the mantissa correctly bumps the exponent (up to infinity).
  const uint32_t odd = (abs >> 13) & 1u;
  const uint32_t rounded = abs + 0xfffu + odd - ((127u - 15u) << 23);
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

uint16_t FloatToBFloat16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if (std::isnan(f)) return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  const uint32_t odd = (bits >> 16) & 1u;
  return static_cast<uint16_t>((bits + 0x7fffu + odd) >> 16);
}

// One element converted as a C++ static_cast would, except that 16-bit
// floats go through float, and a floating point value outside an integer
// type's range saturates (NaN gives 0) where C++ leaves it undefined.
template <typename D, typename S>
D ConvertElement(S s) {
  if constexpr (std::is_same_v<S, Half>) {
    return ConvertElement<D, float>(HalfToFloat(s.bits));
  } else if constexpr (std::is_same_v<S, BFloat16>) {
    return ConvertElement<D, float>(BFloat16ToFloat(s.bits));
  } else if constexpr (std::is_same_v<D, Half>) {
    return Half{FloatToHalf(static_cast<float>(s))};
  } else if constexpr (std::is_same_v<D, BFloat16>) {
    return BFloat16{FloatToBFloat16(static_cast<float>(s))};
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S(0);
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    if (std::isnan(s)) return D(0);
    if (s <= static_cast<S>(std::numeric_limits<D>::lowest())) {
      return std::numeric_limits<D>::lowest();
    }
    if (s >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(s);
  } else {
    return static_cast<D>(s);
  }
}

constexpr uint32_t kCastTypes = kFloatTypes | kIntTypes | kBoolBit | kUint8Bit | kInt8Bit |
                                kInt16Bit | kUint16Bit | kHalfBit | kBFloat16Bit;

class CastOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    CKPT_ASSIGN_OR_RETURN(DType dst, GetTypeAttr(c.def, "DstT"));
    return std::unique_ptr<OpKernel>(new CastOp(dst));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    if (x.dtype() == dst_) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    return DispatchType<kCastTypes>(x.dtype(), "Cast", [&](auto src_tag) -> absl::Status {
      using S = typename decltype(src_tag)::type;
      return DispatchType<kCastTypes>(dst_, "Cast", [&](auto dst_tag) -> absl::Status {
        using D = typename decltype(dst_tag)::type;
        CKPT_ASSIGN_OR_RETURN(Tensor * y, ctx->allocate_output(0, dst_, x.shape()));
        const S* in = Data<S>(x);
        D* out = MutableData<D>(y);
        const int64_t n = x.NumElements();
        for (int64_t i = 0; i < n; ++i) out[i] = ConvertElement<D, S>(in[i]);
        return absl::OkStatus();
      });
    });
  }

 private:
  explicit CastOp(DType dst) : dst_(dst) {}
  DType dst_;
};

// ---------------------------------------------------------------------------
// Reading small integer operands (axes, dimensions).

absl::Status ReadIntegers(const Tensor& t, absl::string_view what,
                          absl::InlinedVector<int64_t, 8>* out) {
  if (t.shape().rank() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a scalar or a vector, got shape ",
                                                   t.shape().DebugString()));
  }
  out->clear();
  const int64_t n = t.NumElements();
  if (t.dtype() == DT_INT32) {
    const int32_t* p = Data<int32_t>(t);
    out->assign(p, p + n);
  } else if (t.dtype() == DT_INT64) {
    const int64_t* p = Data<int64_t>(t);
    out->assign(p, p + n);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be int32 or int64, got ", DTypeName(t.dtype())));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// ArgMax / ArgMin.

template <bool kMax>
class ArgOp : public OpKernel {
 public:
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(const KernelConstruction& c) {
    DType output_type = DT_INT64;
    if (c.def.attr().count("output_type") != 0) {
      CKPT_ASSIGN_OR_RETURN(output_type, GetTypeAttr(c.def, "output_type"));
    }
    if (output_type != DT_INT32 && output_type != DT_INT64) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output_type must be int32 or int64, got ", DTypeName(output_type)));
    }
    return std::unique_ptr<OpKernel>(new ArgOp(output_type));
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::InlinedVector<int64_t, 8> dims;
    CKPT_RETURN_IF_ERROR(ReadIntegers(ctx->input(1), "dimension", &dims));
    const int rank = x.shape().rank();
    if (dims.size() != 1 || ctx->input(1).shape().rank() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dimension must be a scalar, got shape ", ctx->input(1).shape().DebugString()));
    }
    int64_t axis = dims[0];
    if (axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("dimension ", axis,
                                                     " is out of range for input of rank ",
                                                     rank, " (shape ", x.shape().DebugString(),
                                                     "): expected [", -rank, ", ", rank, ")"));
    }
    if (axis < 0) axis += rank;
    const int64_t size = x.shape().dim(static_cast<int>(axis));
    if (size == 0) {
      return absl::InvalidArgumentError(absl::StrCat("reduction axis ", axis,
                                                     " is empty in shape ",
                                                     x.shape().DebugString()));
    }
    int64_t outer = 1, inner = 1;
    std::vector<int64_t> out_dims;
    for (int i = 0; i < rank; ++i) {
      if (i < axis) outer *= x.shape().dim(i);
      if (i > axis) inner *= x.shape().dim(i);
      if (i != axis) out_dims.push_back(x.shape().dim(i));
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape out_shape, TensorShape::FromDims(out_dims));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, output_type_, out_shape));
    const char* op = kMax ? "ArgMax" : "ArgMin";
    return DispatchType<kRealNumberTypes | kBoolBit>(x.dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if (output_type_ == DT_INT32) {
        Run<T, int32_t>(Data<T>(x), MutableData<int32_t>(out), outer, size, inner);
      } else {
        Run<T, int64_t>(Data<T>(x), MutableData<int64_t>(out), outer, size, inner);
      }
      return absl::OkStatus();
    });
  }

 private:
  explicit ArgOp(DType output_type) : output_type_(output_type) {}

  // The first index of the extreme value wins ties.
  template <typename T>
  static bool Better(T candidate, T best) {
    return kMax ? candidate > best : candidate < best;
  }

  template <typename T, typename I>
  static void Run(const T* x, I* out, int64_t outer, int64_t size, int64_t inner) {
    std::unique_ptr<T[]> best(new T[inner]);
    for (int64_t o = 0; o < outer; ++o) {
      const T* block = x + o * size * inner;
      I* out_row = out + o * inner;
      std::copy(block, block + inner, best.get());
      std::fill(out_row, out_row + inner, I(0));
      for (int64_t r = 1; r < size; ++r) {
        const T* row = block + r * inner;
        for (int64_t j = 0; j < inner; ++j) {
          if (Better(row[j], best[j])) {
            best[j] = row[j];
            out_row[j] = static_cast<I>(r);
          }
        }
      }
    }
  }

  DType output_type_;
};

// ---------------------------------------------------------------------------
// Reductions.

struct SumReducer {
  template <typename T>
  static T Init() {
    return T(0);
  }
  template <typename T>
  static T Combine(T acc, T x) {
    return WrapAdd(acc, x);
  }
};
struct ProdReducer {
  template <typename T>
  static T Init() {
    return T(1);
  }
  template <typename T>
  static T Combine(T acc, T x) {
    return WrapMul(acc, x);
  }
};
// Max and Min start from -inf / +inf for floating point (the result over no
// elements) and propagate NaN.
struct MaxReducer {
  template <typename T>
  static T Init() {
    if constexpr (std::is_floating_point_v<T>) {
      return -std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::lowest();
    }
  }
  template <typename T>
  static T Combine(T acc, T x) {
    return (x > acc || IsNan(x)) ? x : acc;
  }
};
struct MinReducer {
  template <typename T>
  static T Init() {
    if constexpr (std::is_floating_point_v<T>) {
      return std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::max();
    }
  }
  template <typename T>
  static T Combine(T acc, T x) {
    return (x < acc || IsNan(x)) ? x : acc;
  }
};
struct AllReducer {
  template <typename T>
  static T Init() {
    return true;
  }
  static bool Combine(bool acc, bool x) { return acc && x; }
};
struct AnyReducer {
  template <typename T>
  static T Init() {
    return false;
  }
  static bool Combine(bool acc, bool x) { return acc || x; }
};

// Reduces the middle dimension of x viewed as [a, r, b] into out [a, b].
// Rows (b == 1) are reduced in 8 interleaved lanes combined at the end, and
// short columns (b small) in a tile of several rows folded at the end: in a
// fixed order, so results are deterministic, and faster (and for sums more
// accurate) than one running total.
template <typename T, typename Red>
void ReduceMiddle(const T* x, T* out, int64_t a, int64_t r, int64_t b) {
  constexpr int kLanes = 8;
  if (b == 1) {
    for (int64_t i = 0; i < a; ++i) {
      const T* row = x + i * r;
      T lanes[kLanes];
      for (int l = 0; l < kLanes; ++l) lanes[l] = Red::template Init<T>();
      int64_t j = 0;
      for (; j + kLanes <= r; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) lanes[l] = Red::Combine(lanes[l], row[j + l]);
      }
      for (int l = 0; j < r; ++j, ++l) lanes[l] = Red::Combine(lanes[l], row[j]);
      for (int width = kLanes / 2; width >= 1; width /= 2) {
        for (int l = 0; l < width; ++l) lanes[l] = Red::Combine(lanes[l], lanes[l + width]);
      }
      out[i] = lanes[0];
    }
    return;
  }
  constexpr int64_t kTileTarget = 64;
  if (b < kTileTarget) {
    // Short rows: accumulate several consecutive rows at once in a tile of
    // accumulators (one flat loop per group of rows), then fold the tile's
    // rows together.
    const int64_t per_tile = (kTileTarget + b - 1) / b;
    const int64_t width = per_tile * b;
    T tile[2 * kTileTarget];
    for (int64_t i = 0; i < a; ++i) {
      for (int64_t t = 0; t < width; ++t) tile[t] = Red::template Init<T>();
      const T* block = x + i * r * b;
      int64_t j = 0;
      for (; j + per_tile <= r; j += per_tile) {
        const T* src = block + j * b;
        int64_t t = 0;
        for (; t + kLanes <= width; t += kLanes) {
          for (int l = 0; l < kLanes; ++l) tile[t + l] = Red::Combine(tile[t + l], src[t + l]);
        }
        for (; t < width; ++t) tile[t] = Red::Combine(tile[t], src[t]);
      }
      for (; j < r; ++j) {
        const T* row = block + j * b;
        for (int64_t k = 0; k < b; ++k) tile[k] = Red::Combine(tile[k], row[k]);
      }
      T* o = out + i * b;
      std::copy(tile, tile + b, o);
      for (int64_t s = 1; s < per_tile; ++s) {
        for (int64_t k = 0; k < b; ++k) o[k] = Red::Combine(o[k], tile[s * b + k]);
      }
    }
    return;
  }
  for (int64_t i = 0; i < a; ++i) {
    T* o = out + i * b;
    std::fill(o, o + b, Red::template Init<T>());
    for (int64_t j = 0; j < r; ++j) {
      const T* row = x + (i * r + j) * b;
      for (int64_t k = 0; k < b; ++k) o[k] = Red::Combine(o[k], row[k]);
    }
  }
}

enum class ReduceKind { kSum, kMean, kProd, kMax, kMin, kAll, kAny };

template <ReduceKind kKind>
class ReductionOp : public OpKernel {
 public:
  explicit ReductionOp(const KernelConstruction& c) {
    absl::StatusOr<bool> keep = GetBoolAttr(c.def, "keep_dims");
    keep_dims_ = keep.ok() && *keep;
  }

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    absl::InlinedVector<int64_t, 8> axes;
    CKPT_RETURN_IF_ERROR(ReadIntegers(ctx->input(1), "reduction axes", &axes));
    const int rank = x.shape().rank();
    absl::InlinedVector<bool, 8> reduced(rank, false);
    for (int64_t axis : axes) {
      if (axis < -rank || axis >= rank) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid reduction axis ", axis, " for input of rank ", rank, " (shape ",
            x.shape().DebugString(), ")"));
      }
      reduced[axis < 0 ? axis + rank : axis] = true;
    }
    std::vector<int64_t> out_dims;
    // The input as alternating kept / reduced groups of dimensions (size-1
    // dimensions dropped, neighbours with the same role merged).
    absl::InlinedVector<int64_t, 8> groups;
    absl::InlinedVector<bool, 8> group_reduced;
    int64_t reduced_count = 1;
    for (int i = 0; i < rank; ++i) {
      const int64_t d = x.shape().dim(i);
      if (reduced[i]) {
        reduced_count *= d;
        if (keep_dims_) out_dims.push_back(1);
      } else {
        out_dims.push_back(d);
      }
      if (d == 1) continue;
      if (!groups.empty() && group_reduced.back() == reduced[i]) {
        groups.back() *= d;
      } else {
        groups.push_back(d);
        group_reduced.push_back(reduced[i]);
      }
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape out_shape, TensorShape::FromDims(out_dims));
    return DispatchType<kTypes>(x.dtype(), ctx->def().op(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return Reduce<T>(ctx, x, out_shape, groups, group_reduced, reduced_count);
    });
  }

 private:
  static constexpr uint32_t kTypes =
      (kKind == ReduceKind::kAll || kKind == ReduceKind::kAny) ? kBoolBit : kRealNumberTypes;
  using Red = std::conditional_t<
      kKind == ReduceKind::kProd, ProdReducer,
      std::conditional_t<
          kKind == ReduceKind::kMax, MaxReducer,
          std::conditional_t<
              kKind == ReduceKind::kMin, MinReducer,
              std::conditional_t<kKind == ReduceKind::kAll, AllReducer,
                                 std::conditional_t<kKind == ReduceKind::kAny, AnyReducer,
                                                    SumReducer>>>>>;

  template <typename T>
  absl::Status Reduce(KernelContext* ctx, const Tensor& x, const TensorShape& out_shape,
                      absl::InlinedVector<int64_t, 8> groups,
                      absl::InlinedVector<bool, 8> group_reduced, int64_t reduced_count) {
    const bool any_reduced =
        std::find(group_reduced.begin(), group_reduced.end(), true) != group_reduced.end();
    if (!any_reduced) {
      // Only size-1 dimensions (or none) are reduced: the values are unchanged.
      if (out_shape == x.shape()) {
        ctx->set_output(0, x);
        return absl::OkStatus();
      }
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), out_shape));
      if (x.TotalBytes() > 0) std::memcpy(out->mutable_raw_data(), x.raw_data(), x.TotalBytes());
      return absl::OkStatus();
    }
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, x.dtype(), out_shape));
    if (out->NumElements() == 0) return absl::OkStatus();
    T* result = MutableData<T>(out);
    // One pass per reduced group, innermost first; all but the last pass
    // write to a scratch buffer.
    const T* src = Data<T>(x);
    std::unique_ptr<T[]> scratch, next;
    while (true) {
      int g = static_cast<int>(groups.size()) - 1;
      while (!group_reduced[g]) --g;
      int64_t a = 1, b = 1;
      for (int i = 0; i < g; ++i) a *= groups[i];
      for (size_t i = g + 1; i < groups.size(); ++i) b *= groups[i];
      const bool last = std::find(group_reduced.begin(), group_reduced.begin() + g, true) ==
                        group_reduced.begin() + g;
      T* dst = result;
      if (!last) {
        next.reset(new T[a * b]);
        dst = next.get();
      }
      ReduceMiddle<T, Red>(src, dst, a, groups[g], b);
      if (last) break;
      scratch = std::move(next);
      src = scratch.get();
      groups.erase(groups.begin() + g);
      group_reduced.erase(group_reduced.begin() + g);
    }
    if constexpr (kKind == ReduceKind::kMean) {
      const int64_t n = out->NumElements();
      if constexpr (std::is_integral_v<T>) {
        const T count = static_cast<T>(reduced_count);
        for (int64_t i = 0; i < n; ++i) result[i] = count == 0 ? T(0) : result[i] / count;
      } else {
        const T count = static_cast<T>(reduced_count);
        for (int64_t i = 0; i < n; ++i) result[i] = result[i] / count;
      }
    }
    return absl::OkStatus();
  }

  bool keep_dims_ = false;
};

// ---------------------------------------------------------------------------
// Range.

class RangeOp : public OpKernel {
 public:
  explicit RangeOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& start_t = ctx->input(0);
    const char* names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; ++i) {
      const Tensor& t = ctx->input(i);
      if (t.NumElements() != 1 || t.shape().rank() > 1) {
        return absl::InvalidArgumentError(absl::StrCat(names[i], " must be a scalar, got shape ",
                                                       t.shape().DebugString()));
      }
      if (t.dtype() != start_t.dtype()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "start, limit and delta must have one dtype: start is ", DTypeName(start_t.dtype()),
            ", ", names[i], " is ", DTypeName(t.dtype())));
      }
    }
    return DispatchType<kRealNumberTypes>(start_t.dtype(), "Range", [&](auto tag) {
      using T = typename decltype(tag)::type;
      return Run<T>(ctx);
    });
  }

 private:
  template <typename T>
  static absl::Status Run(KernelContext* ctx) {
    const T start = Data<T>(ctx->input(0))[0];
    const T limit = Data<T>(ctx->input(1))[0];
    const T delta = Data<T>(ctx->input(2))[0];
    if (delta == 0) return absl::InvalidArgumentError("Range requires delta != 0");
    if (delta > 0 && start > limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Range requires start <= limit when delta > 0: ", start, "/", limit));
    }
    if (delta < 0 && start < limit) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Range requires start >= limit when delta < 0: ", start, "/", limit));
    }
    int64_t size;
    if constexpr (std::is_integral_v<T>) {
      // In unsigned arithmetic: |limit - start| may not fit T.
      const uint64_t span = start <= limit ? static_cast<uint64_t>(limit) - static_cast<uint64_t>(start)
                                           : static_cast<uint64_t>(start) - static_cast<uint64_t>(limit);
      const uint64_t step = delta > 0 ? static_cast<uint64_t>(delta)
                                      : uint64_t{0} - static_cast<uint64_t>(delta);
      size = static_cast<int64_t>(span / step + (span % step != 0 ? 1 : 0));
    } else {
      // The quotient in T, as TensorFlow computes it.
      const T quotient = (limit - start) / delta;
      const double count = std::ceil(std::fabs(static_cast<double>(quotient)));
      if (!(count < 9.2e18)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Range has too many elements: (", limit, " - ", start, ") / ", delta));
      }
      size = static_cast<int64_t>(count);
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims({size}));
    CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, DTypeOf<T>(), shape));
    T* o = MutableData<T>(out);
    // Accumulated, as TensorFlow does (not start + i * delta).
    T value = start;
    for (int64_t i = 0; i < size; ++i) {
      o[i] = value;
      value = WrapAdd(value, delta);
    }
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------
// Select and SelectV2.

// Element copies by width: every fixed-size dtype is moved as raw bytes.
struct Bytes16 {
  uint64_t lo, hi;
};

template <typename Fn>
absl::Status DispatchByWidth(DType dtype, absl::string_view op, Fn&& fn) {
  if (dtype == DT_STRING) return fn(TypeTag<std::string>());
  switch (DTypeSize(dtype)) {
    case 1:
      return fn(TypeTag<uint8_t>());
    case 2:
      return fn(TypeTag<uint16_t>());
    case 4:
      return fn(TypeTag<uint32_t>());
    case 8:
      return fn(TypeTag<uint64_t>());
    case 16:
      return fn(TypeTag<Bytes16>());
    default:
      return UnsupportedDType(op, dtype);
  }
}

template <typename E>
const E* ElementsAs(const Tensor& t) {
  if constexpr (std::is_same_v<E, std::string>) {
    return t.strings().data();
  } else {
    return reinterpret_cast<const E*>(t.raw_data());
  }
}
template <typename E>
E* MutableElementsAs(Tensor* t) {
  if constexpr (std::is_same_v<E, std::string>) {
    return t->mutable_strings()->data();
  } else {
    return reinterpret_cast<E*>(t->mutable_raw_data());
  }
}

absl::Status CheckCondition(const Tensor& cond) {
  if (cond.dtype() != DT_BOOL) {
    return absl::InvalidArgumentError(
        absl::StrCat("condition must be bool, got ", DTypeName(cond.dtype())));
  }
  return absl::OkStatus();
}

// Select (v1): the condition has the shape of t, or is a scalar, or is a
// vector choosing whole rows (slices along t's first dimension).
class SelectOp : public OpKernel {
 public:
  explicit SelectOp(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    CKPT_RETURN_IF_ERROR(CheckCondition(cond));
    if (t.dtype() != e.dtype() || t.shape() != e.shape()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'then' and 'else' must have one dtype and shape: ", t.DebugString(), " vs. ",
          e.DebugString()));
    }
    const bool* c = Data<bool>(cond);
    if (cond.shape().rank() == 0) {
      ctx->set_output(0, c[0] ? t : e);
      return absl::OkStatus();
    }
    int64_t chunk;  // elements chosen by one condition value
    if (cond.shape() == t.shape()) {
      chunk = 1;
    } else if (cond.shape().rank() == 1 && t.shape().rank() >= 1 &&
               cond.shape().dim(0) == t.shape().dim(0)) {
      chunk = t.shape().dim(0) == 0 ? 0 : t.NumElements() / t.shape().dim(0);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "condition must be a scalar, have the shape of 'then' or be a vector as long as its "
          "first dimension: condition ",
          cond.shape().DebugString(), ", then ", t.shape().DebugString()));
    }
    return DispatchByWidth(t.dtype(), "Select", [&](auto tag) -> absl::Status {
      using E = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, t.dtype(), t.shape()));
      const E* tv = ElementsAs<E>(t);
      const E* ev = ElementsAs<E>(e);
      E* o = MutableElementsAs<E>(out);
      const int64_t n = cond.NumElements();
      if (chunk == 1) {
        for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? tv[i] : ev[i];
      } else {
        for (int64_t i = 0; i < n; ++i) {
          const E* src = (c[i] ? tv : ev) + i * chunk;
          std::copy(src, src + chunk, o + i * chunk);
        }
      }
      return absl::OkStatus();
    });
  }
};

// SelectV2: condition, then and else broadcast together.
class SelectV2Op : public OpKernel {
 public:
  explicit SelectV2Op(const KernelConstruction&) {}

  absl::Status Compute(KernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    CKPT_RETURN_IF_ERROR(CheckCondition(cond));
    if (t.dtype() != e.dtype()) {
      return absl::InvalidArgumentError(absl::StrCat("'then' and 'else' must have one dtype: ",
                                                     DTypeName(t.dtype()), " vs. ",
                                                     DTypeName(e.dtype())));
    }
    const TensorShape* shapes[3] = {&cond.shape(), &t.shape(), &e.shape()};
    int rank = 0;
    for (const TensorShape* s : shapes) rank = std::max(rank, s->rank());
    std::vector<int64_t> out_dims(rank, 1);
    for (const TensorShape* s : shapes) {
      const int pad = rank - s->rank();
      for (int i = 0; i < s->rank(); ++i) {
        const int64_t d = s->dim(i);
        int64_t& o = out_dims[pad + i];
        if (o == 1) {
          o = d;
        } else if (d != 1 && d != o) {
          return absl::InvalidArgumentError(absl::StrCat(
              "condition, then and else do not broadcast: ", cond.shape().DebugString(), ", ",
              t.shape().DebugString(), ", ", e.shape().DebugString()));
        }
      }
    }
    // Each operand's stride along each output dimension (0 where broadcast).
    std::vector<int64_t> strides[3];
    for (int k = 0; k < 3; ++k) {
      strides[k].assign(rank, 0);
      const int pad = rank - shapes[k]->rank();
      int64_t stride = 1;
      for (int i = rank - 1; i >= pad; --i) {
        const int64_t d = shapes[k]->dim(i - pad);
        strides[k][i] = d == 1 ? 0 : stride;
        stride *= d;
      }
    }
    CKPT_ASSIGN_OR_RETURN(TensorShape out_shape, TensorShape::FromDims(out_dims));
    return DispatchByWidth(t.dtype(), "SelectV2", [&](auto tag) -> absl::Status {
      using E = typename decltype(tag)::type;
      CKPT_ASSIGN_OR_RETURN(Tensor * out, ctx->allocate_output(0, t.dtype(), out_shape));
      const bool* c = Data<bool>(cond);
      const E* tv = ElementsAs<E>(t);
      const E* ev = ElementsAs<E>(e);
      E* o = MutableElementsAs<E>(out);
      const int64_t n = out_shape.num_elements();
      std::vector<int64_t> index(rank, 0);
      int64_t off[3] = {0, 0, 0};
      for (int64_t i = 0; i < n; ++i) {
        o[i] = c[off[0]] ? tv[off[1]] : ev[off[2]];
        for (int d = rank - 1; d >= 0; --d) {
          for (int k = 0; k < 3; ++k) off[k] += strides[k][d];
          if (++index[d] < out_dims[d]) break;
          for (int k = 0; k < 3; ++k) off[k] -= strides[k][d] * out_dims[d];
          index[d] = 0;
        }
      }
      return absl::OkStatus();
    });
  }
};

}  // namespace

void RegisterMathKernels(KernelRegistry* r) {
  constexpr uint32_t kReal = kRealNumberTypes;
  r->Register("Add", MakeKernel<BinaryOpKernel<AddFn, kReal | kStringBit>>);
  r->Register("AddV2", MakeKernel<BinaryOpKernel<AddFn, kReal>>);
  r->Register("Sub", MakeKernel<BinaryOpKernel<SubFn, kReal>>);
  r->Register("Mul", MakeKernel<BinaryOpKernel<MulFn, kReal>>);
  r->Register("RealDiv", MakeKernel<BinaryOpKernel<DivFn, kFloatTypes>>);
  r->Register("Div", MakeKernel<BinaryOpKernel<DivFn, kReal, kNonZeroDivisor>>);
  r->Register("FloorDiv", MakeKernel<BinaryOpKernel<FloorDivFn, kReal, kNonZeroDivisor>>);
  r->Register("FloorMod", MakeKernel<BinaryOpKernel<FloorModFn, kReal, kNonZeroDivisor>>);
  r->Register("Maximum", MakeKernel<BinaryOpKernel<MaximumFn, kReal>>);
  r->Register("Minimum", MakeKernel<BinaryOpKernel<MinimumFn, kReal>>);
  r->Register("Pow", MakeKernel<BinaryOpKernel<PowFn, kReal, kNonNegativeExponent>>);
  r->Register("SquaredDifference", MakeKernel<BinaryOpKernel<SquaredDifferenceFn, kReal>>);

  r->Register("Equal", MakeKernel<EqualityOpKernel<EqualFn, false>>);
  r->Register("NotEqual", MakeKernel<EqualityOpKernel<NotEqualFn, true>>);
  r->Register("Greater", MakeKernel<BinaryOpKernel<GreaterFn, kReal, kBoolOutput>>);
  r->Register("GreaterEqual", MakeKernel<BinaryOpKernel<GreaterEqualFn, kReal, kBoolOutput>>);
  r->Register("Less", MakeKernel<BinaryOpKernel<LessFn, kReal, kBoolOutput>>);
  r->Register("LessEqual", MakeKernel<BinaryOpKernel<LessEqualFn, kReal, kBoolOutput>>);
  r->Register("LogicalAnd", MakeKernel<BinaryOpKernel<LogicalAndFn, kBoolBit>>);
  r->Register("LogicalOr", MakeKernel<BinaryOpKernel<LogicalOrFn, kBoolBit>>);
  r->Register("LogicalNot", MakeKernel<UnaryOpKernel<LogicalNotFn, kBoolBit>>);

  r->Register("Neg", MakeKernel<UnaryOpKernel<NegFn, kReal>>);
  r->Register("Square", MakeKernel<UnaryOpKernel<SquareFn, kReal>>);
  r->Register("Sqrt", MakeKernel<UnaryOpKernel<SqrtFn, kFloatTypes>>);
  r->Register("Rsqrt", MakeKernel<UnaryOpKernel<RsqrtFn, kFloatTypes>>);
  r->Register("Reciprocal", MakeKernel<UnaryOpKernel<ReciprocalFn, kFloatTypes>>);
  r->Register("Exp", MakeKernel<UnaryOpKernel<ExpFn, kFloatTypes>>);
  r->Register("Log", MakeKernel<UnaryOpKernel<LogFn, kFloatTypes>>);
  r->Register("Abs", MakeKernel<UnaryOpKernel<AbsFn, kReal>>);
  r->Register("Sign", MakeKernel<UnaryOpKernel<SignFn, kReal>>);
  r->Register("Floor", MakeKernel<UnaryOpKernel<FloorFn, kFloatTypes>>);
  r->Register("Ceil", MakeKernel<UnaryOpKernel<CeilFn, kFloatTypes>>);
  r->Register("Round", MakeKernel<UnaryOpKernel<RoundFn, kReal>>);
  r->Register("SqrtGrad", MakeKernel<BinaryOpKernel<SqrtGradFn, kFloatTypes, kSameShape>>);
  r->Register("RsqrtGrad", MakeKernel<BinaryOpKernel<RsqrtGradFn, kFloatTypes, kSameShape>>);
  r->Register("ReciprocalGrad",
              MakeKernel<BinaryOpKernel<ReciprocalGradFn, kFloatTypes, kSameShape>>);

  r->Register("AddN", MakeKernel<AddNOp>);
  r->Register("MatMul", MakeKernel<MatMulOp>);
  r->Register("Cast", CastOp::Create);
  r->Register("ArgMax", ArgOp<true>::Create);
  r->Register("ArgMin", ArgOp<false>::Create);
  r->Register("Sum", MakeKernel<ReductionOp<ReduceKind::kSum>>);
  r->Register("Mean", MakeKernel<ReductionOp<ReduceKind::kMean>>);
  r->Register("Prod", MakeKernel<ReductionOp<ReduceKind::kProd>>);
  r->Register("Max", MakeKernel<ReductionOp<ReduceKind::kMax>>);
  r->Register("Min", MakeKernel<ReductionOp<ReduceKind::kMin>>);
  r->Register("All", MakeKernel<ReductionOp<ReduceKind::kAll>>);
  r->Register("Any", MakeKernel<ReductionOp<ReduceKind::kAny>>);
  r->Register("Range", MakeKernel<RangeOp>);
  r->Register("Select", MakeKernel<SelectOp>);
  r->Register("SelectV2", MakeKernel<SelectV2Op>);
}

}  // namespace runtime
}  // namespace ckpt
