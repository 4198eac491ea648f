#include "common/tensor_literal.h"

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/status_macros.h"
#include "common/numeric.h"

namespace ckpt {
namespace tools {
namespace {

// One element, before it is stored in its dtype.
struct Scalar {
  enum Kind { kInt, kUint, kFloat, kBool, kComplex, kString } kind = kFloat;
  int64_t i = 0;    // kInt; kBool as 0/1
  uint64_t u = 0;   // kUint: whole numbers above INT64_MAX
  double re = 0;    // every numeric kind
  double im = 0;    // kComplex
  std::string str;  // kString: the bytes; else the text typed, if any
  size_t pos = 0;   // 1-based character in the literal; 0 for a tensor element
  int64_t index = 0;
};

std::string Where(const Scalar& s) {
  return s.pos > 0 ? absl::StrCat("at character ", s.pos) : absl::StrCat("at element ", s.index);
}

std::string Shown(const Scalar& s) {
  if (s.pos > 0 || s.kind == Scalar::kString) return absl::StrCat("'", s.str, "'");
  switch (s.kind) {
    case Scalar::kInt: return absl::StrCat(s.i);
    case Scalar::kUint: return absl::StrCat(s.u);
    case Scalar::kBool: return s.i ? "True" : "False";
    case Scalar::kComplex: return absl::StrCat("(", s.re, s.im < 0 ? "" : "+", s.im, "j)");
    default: return absl::StrCat(s.re);
  }
}

absl::Status Refuse(const Scalar& s, DType dtype, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Shown(s), " ", Where(s), " ", why, " (dtype ",
                                                 DTypeName(dtype), ")"));
}

// IEEE-style binary float with `exp_bits` exponent and `man_bits` mantissa
// bits, from a double, rounding to nearest even; overflow gives infinity.
uint32_t EncodeIeee(double v, int exp_bits, int man_bits) {
  const uint32_t sign = std::signbit(v) ? 1u << (exp_bits + man_bits) : 0;
  const uint32_t exp_all = (1u << exp_bits) - 1;
  if (std::isnan(v)) return sign | exp_all << man_bits | 1u << (man_bits - 1);
  const double a = std::fabs(v);
  if (std::isinf(a)) return sign | exp_all << man_bits;
  if (a == 0) return sign;
  const int bias = (1 << (exp_bits - 1)) - 1;
  int e = 0;
  std::frexp(a, &e);
  e -= 1;  // a is in [2^e, 2^(e+1))
  if (e < 1 - bias) e = 1 - bias;  // subnormals share the smallest exponent
  // Scaling by a power of two is exact, so nearbyint (ties to even in the
  // default rounding mode) rounds exactly once.
  double q = std::nearbyint(std::ldexp(a, man_bits - e));
  if (q >= std::ldexp(1.0, man_bits + 1)) {
    q /= 2;
    e += 1;
  }
  const uint32_t qi = static_cast<uint32_t>(q);
  const uint32_t mantissa = qi & ((1u << man_bits) - 1);
  if (qi < (1u << man_bits)) return sign | mantissa;  // subnormal (or zero)
  const int exp_field = e + bias;
  if (exp_field >= static_cast<int>(exp_all)) return sign | exp_all << man_bits;
  return sign | static_cast<uint32_t>(exp_field) << man_bits | mantissa;
}

template <typename T>
void Put(Tensor* t, int64_t index, T value) {
  std::memcpy(t->mutable_raw_data() + index * sizeof(T), &value, sizeof(T));
}

// The value of a real scalar (numbers and bools).
absl::Status RealValue(const Scalar& s, DType dtype, double* out) {
  if (s.kind == Scalar::kString) return Refuse(s, dtype, "is a string, not a number");
  if (s.kind == Scalar::kComplex) return Refuse(s, dtype, "is complex");
  *out = s.re;
  return absl::OkStatus();
}

// The value of a scalar as a whole number in [lo, hi].
absl::Status WholeValue(const Scalar& s, DType dtype, __int128 lo, __int128 hi, __int128* out) {
  __int128 v = 0;
  switch (s.kind) {
    case Scalar::kInt:
    case Scalar::kBool:
      v = s.i;
      break;
    case Scalar::kUint:
      v = s.u;
      break;
    case Scalar::kFloat: {
      if (!std::isfinite(s.re) || std::trunc(s.re) != s.re) {
        return Refuse(s, dtype, "is not a whole number");
      }
      // Every double beyond +-2^64 is out of range of every integer dtype.
      if (std::fabs(s.re) >= 18446744073709551616.0) return Refuse(s, dtype, "is out of range");
      v = static_cast<__int128>(s.re);
      break;
    }
    case Scalar::kComplex:
      return Refuse(s, dtype, "is complex");
    case Scalar::kString:
      return Refuse(s, dtype, "is a string, not a number");
  }
  if (v < lo || v > hi) return Refuse(s, dtype, "is out of range");
  *out = v;
  return absl::OkStatus();
}

template <typename T>
absl::Status PutWhole(const Scalar& s, DType dtype, Tensor* t, int64_t index) {
  __int128 v = 0;
  CKPT_RETURN_IF_ERROR(WholeValue(s, dtype, std::numeric_limits<T>::min(),
                                  std::numeric_limits<T>::max(), &v));
  Put<T>(t, index, static_cast<T>(v));
  return absl::OkStatus();
}

template <typename T>
absl::Status PutComplex(const Scalar& s, DType dtype, Tensor* t, int64_t index) {
  if (s.kind == Scalar::kString) return Refuse(s, dtype, "is a string, not a number");
  Put<std::complex<T>>(t, index, std::complex<T>(static_cast<T>(s.re), static_cast<T>(s.im)));
  return absl::OkStatus();
}

absl::Status Store(const Scalar& s, DType dtype, Tensor* t, int64_t index) {
  double d = 0;
  switch (dtype) {
    case DT_FLOAT:
      CKPT_RETURN_IF_ERROR(RealValue(s, dtype, &d));
      Put<float>(t, index, static_cast<float>(d));
      return absl::OkStatus();
    case DT_DOUBLE:
      CKPT_RETURN_IF_ERROR(RealValue(s, dtype, &d));
      Put<double>(t, index, d);
      return absl::OkStatus();
    case DT_HALF:
      CKPT_RETURN_IF_ERROR(RealValue(s, dtype, &d));
      Put<uint16_t>(t, index, DoubleToHalfBits(d));
      return absl::OkStatus();
    case DT_BFLOAT16:
      CKPT_RETURN_IF_ERROR(RealValue(s, dtype, &d));
      Put<uint16_t>(t, index, DoubleToBFloat16Bits(d));
      return absl::OkStatus();
    case DT_INT8: return PutWhole<int8_t>(s, dtype, t, index);
    case DT_INT16: return PutWhole<int16_t>(s, dtype, t, index);
    case DT_INT32: return PutWhole<int32_t>(s, dtype, t, index);
    case DT_INT64: return PutWhole<int64_t>(s, dtype, t, index);
    case DT_UINT8: return PutWhole<uint8_t>(s, dtype, t, index);
    case DT_UINT16: return PutWhole<uint16_t>(s, dtype, t, index);
    case DT_UINT32: return PutWhole<uint32_t>(s, dtype, t, index);
    case DT_UINT64: return PutWhole<uint64_t>(s, dtype, t, index);
    case DT_BOOL: {
      __int128 v = 0;
      absl::Status st = WholeValue(s, dtype, 0, 1, &v);
      if (!st.ok()) return Refuse(s, dtype, "is not true, false, 0 or 1");
      Put<uint8_t>(t, index, static_cast<uint8_t>(v));
      return absl::OkStatus();
    }
    case DT_COMPLEX64: return PutComplex<float>(s, dtype, t, index);
    case DT_COMPLEX128: return PutComplex<double>(s, dtype, t, index);
    case DT_STRING:
      if (s.kind != Scalar::kString) return Refuse(s, dtype, "is not a quoted string");
      (*t->mutable_strings())[index] = s.str;
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(
          absl::StrCat("values of dtype ", DTypeName(dtype), " cannot be given as numbers"));
  }
}

absl::StatusOr<Tensor> Materialize(const std::vector<Scalar>& scalars, const TensorShape& shape,
                                   DType dtype) {
  CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(dtype, shape));
  for (size_t i = 0; i < scalars.size(); ++i) {
    CKPT_RETURN_IF_ERROR(Store(scalars[i], dtype, &t, static_cast<int64_t>(i)));
  }
  return t;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class LiteralParser {
 public:
  explicit LiteralParser(absl::string_view text) : text_(text) {}

  absl::Status Parse(std::vector<Scalar>* scalars, std::vector<int64_t>* dims) {
    scalars_ = scalars;
    SkipSpace();
    if (pos_ == text_.size()) return absl::InvalidArgumentError("empty value");
    CKPT_RETURN_IF_ERROR(ParseValue(0, dims));
    SkipSpace();
    if (pos_ != text_.size()) return Error(absl::StrCat("unexpected '", text_.substr(pos_, 1), "'"));
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const { return ErrorAt(pos_, what); }
  absl::Status ErrorAt(size_t pos, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(what, " at character ", pos + 1, " of '", text_, "'"));
  }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  static std::string Describe(const std::vector<int64_t>& dims) {
    return dims.empty() ? "a scalar" : absl::StrCat("shape [", absl::StrJoin(dims, ","), "]");
  }

  absl::Status ParseValue(int depth, std::vector<int64_t>* dims) {
    if (depth > TensorShape::kMaxRank) return Error("lists nested too deeply");
    dims->clear();
    if (Peek() != '[') return ParseScalar();
    ++pos_;
    std::vector<int64_t> first;
    int64_t count = 0;
    while (true) {
      SkipSpace();
      if (Peek() == ']') break;
      const size_t start = pos_;
      std::vector<int64_t> sub;
      CKPT_RETURN_IF_ERROR(ParseValue(depth + 1, &sub));
      if (count == 0) {
        first = sub;
      } else if (sub != first) {
        return ErrorAt(start, absl::StrCat("ragged list: this element is ", Describe(sub),
                                           " but the first one is ", Describe(first)));
      }
      ++count;
      SkipSpace();
      if (Peek() == ']') break;
      if (Peek() != ',') {
        return pos_ == text_.size() ? Error("missing ']'") : Error("expected ',' or ']'");
      }
      ++pos_;
    }
    ++pos_;  // ']'
    dims->push_back(count);
    dims->insert(dims->end(), first.begin(), first.end());
    return absl::OkStatus();
  }

  absl::Status ParseScalar() {
    Scalar s;
    s.pos = pos_ + 1;
    const char c = Peek();
    if (c == '"' || c == '\'' || (c == 'b' && (Peek(1) == '"' || Peek(1) == '\''))) {
      if (c == 'b') ++pos_;
      s.kind = Scalar::kString;
      CKPT_RETURN_IF_ERROR(ParseString(&s.str));
      scalars_->push_back(std::move(s));
      return absl::OkStatus();
    }
    if (c == '(') {
      ++pos_;
      SkipSpace();
      CKPT_RETURN_IF_ERROR(ParseNumber(&s));
      SkipSpace();
      if (Peek() != ')') return Error("expected ')'");
      ++pos_;
      s.str = std::string(text_.substr(s.pos - 1, pos_ - (s.pos - 1)));
      scalars_->push_back(std::move(s));
      return absl::OkStatus();
    }
    if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      size_t end = pos_;
      while (end < text_.size() && IsWordChar(text_[end])) ++end;
      const absl::string_view word = text_.substr(pos_, end - pos_);
      if (word == "true" || word == "True" || word == "false" || word == "False") {
        s.kind = Scalar::kBool;
        s.i = word[0] == 't' || word[0] == 'T';
        s.re = static_cast<double>(s.i);
        s.str = std::string(word);
        pos_ = end;
        scalars_->push_back(std::move(s));
        return absl::OkStatus();
      }
    }
    const size_t start = pos_;
    CKPT_RETURN_IF_ERROR(ParseNumber(&s));
    s.str = std::string(text_.substr(start, pos_ - start));
    scalars_->push_back(std::move(s));
    return absl::OkStatus();
  }

  // A real number's text at pos_: [+-] digits/point/exponent, or nan/inf.
  absl::Status ScanReal(absl::string_view* token, bool* whole) {
    const size_t start = pos_;
    if (Peek() == '+' || Peek() == '-') ++pos_;
    if (absl::ascii_isalpha(static_cast<unsigned char>(Peek()))) {
      size_t end = pos_;
      while (end < text_.size() && IsWordChar(text_[end])) ++end;
      std::string word = absl::AsciiStrToLower(text_.substr(pos_, end - pos_));
      if (word != "nan" && word != "inf" && word != "infinity") {
        return ErrorAt(start, absl::StrCat("unknown word '", text_.substr(pos_, end - pos_),
                                           "' (strings need quotes: \"", text_.substr(pos_, end - pos_), "\")"));
      }
      pos_ = end;
      *whole = false;
      *token = text_.substr(start, pos_ - start);
      return absl::OkStatus();
    }
    bool digits = false;
    *whole = true;
    while (IsDigit(Peek())) {
      ++pos_;
      digits = true;
    }
    if (Peek() == '.') {
      ++pos_;
      *whole = false;
      while (IsDigit(Peek())) {
        ++pos_;
        digits = true;
      }
    }
    if (!digits) {
      pos_ = start;
      return Error(pos_ == text_.size() ? "expected a value" : "expected a number, a string, true/false or '['");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      *whole = false;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) return Error("expected digits of the exponent");
      while (IsDigit(Peek())) ++pos_;
    }
    if (IsWordChar(Peek()) && Peek() != 'j' && Peek() != 'J') return Error("unexpected character in a number");
    *token = text_.substr(start, pos_ - start);
    return absl::OkStatus();
  }

  static double ToDouble(absl::string_view token) {
    if (!token.empty() && token[0] == '+') token.remove_prefix(1);
    double v = 0;
    const bool negative = !token.empty() && token[0] == '-';
    absl::string_view body = negative ? token.substr(1) : token;
    const std::string lower = absl::AsciiStrToLower(body);
    if (lower == "nan") {
      v = std::numeric_limits<double>::quiet_NaN();
    } else if (lower == "inf" || lower == "infinity") {
      v = std::numeric_limits<double>::infinity();
    } else if (!absl::SimpleAtod(body, &v)) {
      v = std::numeric_limits<double>::infinity();  // only overflow gets here
    }
    return negative ? -v : v;
  }

  // A real or complex number at pos_.
  absl::Status ParseNumber(Scalar* s) {
    absl::string_view token;
    bool whole = false;
    CKPT_RETURN_IF_ERROR(ScanReal(&token, &whole));
    if (Peek() == 'j' || Peek() == 'J') {
      ++pos_;
      s->kind = Scalar::kComplex;
      s->im = ToDouble(token);
      return absl::OkStatus();
    }
    // "a+bj": the sign must be followed by the imaginary part.
    const size_t after = pos_;
    SkipSpace();
    if ((Peek() == '+' || Peek() == '-') &&
        (IsDigit(Peek(1)) || Peek(1) == '.' || absl::ascii_isalpha(static_cast<unsigned char>(Peek(1))) ||
         absl::ascii_isspace(static_cast<unsigned char>(Peek(1))))) {
      std::string sign(1, Peek());
      ++pos_;
      SkipSpace();
      absl::string_view imag;
      bool imag_whole = false;
      CKPT_RETURN_IF_ERROR(ScanReal(&imag, &imag_whole));
      if (Peek() != 'j' && Peek() != 'J') return Error("expected 'j' ending the imaginary part");
      ++pos_;
      s->kind = Scalar::kComplex;
      s->re = ToDouble(token);
      const double im = ToDouble(imag);
      s->im = sign == "-" ? -im : im;
      return absl::OkStatus();
    }
    pos_ = after;
    s->re = ToDouble(token);
    s->kind = Scalar::kFloat;
    if (whole) {
      absl::string_view digits = token;
      if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
      if (absl::SimpleAtoi(digits, &s->i)) {
        s->kind = Scalar::kInt;
      } else if (absl::SimpleAtoi(digits, &s->u)) {
        s->kind = Scalar::kUint;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseString(std::string* out) {
    const char quote = text_[pos_++];
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) return absl::OkStatus();
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case '0': out->push_back('\0'); break;
        case '\\': case '\'': case '"': out->push_back(e); break;
        case 'x': {
          int value = 0;
          for (int k = 0; k < 2; ++k) {
            const char h = Peek();
            if (!absl::ascii_isxdigit(static_cast<unsigned char>(h))) return Error("\\x needs two hex digits");
            value = value * 16 + (IsDigit(h) ? h - '0' : absl::ascii_tolower(h) - 'a' + 10);
            ++pos_;
          }
          out->push_back(static_cast<char>(value));
          break;
        }
        default:
          --pos_;
          return Error(absl::StrCat("unknown escape '\\", std::string(1, e), "'"));
      }
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  std::vector<Scalar>* scalars_ = nullptr;
};

absl::StatusOr<DType> InferDType(const std::vector<Scalar>& scalars) {
  if (scalars.empty()) return DT_FLOAT;
  const bool strings = scalars[0].kind == Scalar::kString;
  bool all_bool = true;
  bool complex = false;
  for (const Scalar& s : scalars) {
    if ((s.kind == Scalar::kString) != strings) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the value mixes strings and numbers: ", Shown(s), " ", Where(s), " is ",
          strings ? "not a string" : "a string"));
    }
    all_bool = all_bool && s.kind == Scalar::kBool;
    complex = complex || s.kind == Scalar::kComplex;
  }
  if (strings) return DT_STRING;
  if (all_bool) return DT_BOOL;
  return complex ? DT_COMPLEX64 : DT_FLOAT;
}

}  // namespace

uint16_t DoubleToHalfBits(double value) { return static_cast<uint16_t>(EncodeIeee(value, 5, 10)); }

uint16_t DoubleToBFloat16Bits(double value) {
  return static_cast<uint16_t>(EncodeIeee(value, 8, 7));
}

absl::StatusOr<Tensor> ParseTensorLiteral(absl::string_view text, DType dtype) {
  std::vector<Scalar> scalars;
  std::vector<int64_t> dims;
  CKPT_RETURN_IF_ERROR(LiteralParser(text).Parse(&scalars, &dims));
  CKPT_ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims(dims));
  if (dtype == DT_INVALID) {
    CKPT_ASSIGN_OR_RETURN(dtype, InferDType(scalars));
  }
  return Materialize(scalars, shape, dtype);
}

absl::StatusOr<Tensor> ParseTensorLiteral(absl::string_view text, DType dtype,
                                          const PartialShape& shape) {
  CKPT_ASSIGN_OR_RETURN(Tensor t, ParseTensorLiteral(text, dtype));
  return FitToShape(t, shape);
}

absl::StatusOr<Tensor> ConvertTensor(const Tensor& value, DType dtype) {
  if (value.dtype() == dtype) return value;
  if (value.dtype() == DT_STRING || dtype == DT_STRING) {
    return absl::InvalidArgumentError(absl::StrCat("a ", DTypeName(value.dtype()),
                                                   " value cannot be converted to ", DTypeName(dtype)));
  }
  if (!IsNumeric(value.dtype())) {
    return absl::UnimplementedError(
        absl::StrCat("values of dtype ", DTypeName(value.dtype()), " cannot be converted"));
  }
  CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(dtype, value.shape()));
  const DType from = value.dtype();
  for (int64_t i = 0; i < value.NumElements(); ++i) {
    Scalar s;
    s.index = i;
    if (IsComplex(from)) {
      s.kind = Scalar::kComplex;
      s.re = ComponentAsDouble(value, i, 0);
      s.im = ComponentAsDouble(value, i, 1);
    } else if (from == DT_BOOL) {
      s.kind = Scalar::kBool;
      s.i = IntegralValue(value, i);
      s.re = static_cast<double>(s.i);
    } else if (from == DT_UINT64) {
      s.kind = Scalar::kUint;
      s.u = UnsignedValue(value, i);
      s.re = static_cast<double>(s.u);
    } else if (IsIntegral(from)) {
      s.kind = Scalar::kInt;
      s.i = IntegralValue(value, i);
      s.re = static_cast<double>(s.i);
    } else {
      s.kind = Scalar::kFloat;
      s.re = ComponentAsDouble(value, i);
    }
    CKPT_RETURN_IF_ERROR(Store(s, dtype, &out, i));
  }
  return out;
}

absl::StatusOr<Tensor> FitToShape(const Tensor& value, const PartialShape& shape) {
  if (shape.unknown_rank() || shape.IsCompatibleWith(value.shape())) return value;
  auto mismatch = [&]() {
    return absl::InvalidArgumentError(absl::StrCat("a value of shape ", value.shape().DebugString(),
                                                   " does not fit shape ", shape.DebugString()));
  };
  if (value.shape().rank() > 1) return mismatch();
  const int64_t n = value.NumElements();
  int unknown = -1;
  int64_t known = 1;
  for (int d = 0; d < shape.rank(); ++d) {
    if (shape.dim(d) < 0) {
      if (unknown >= 0) return mismatch();
      unknown = d;
    } else {
      if (shape.dim(d) != 0 && known > n / shape.dim(d)) return mismatch();
      known *= shape.dim(d);
    }
  }
  std::vector<int64_t> dims = shape.dims();
  if (unknown >= 0) {
    if (known == 0 || n % known != 0) return mismatch();
    dims[unknown] = n / known;
  } else if (known != n) {
    return mismatch();
  }
  CKPT_ASSIGN_OR_RETURN(TensorShape target, TensorShape::FromDims(dims));
  CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(value.dtype(), target));
  if (value.dtype() == DT_STRING) {
    *out.mutable_strings() = value.strings();
  } else if (value.TotalBytes() > 0) {
    std::memcpy(out.mutable_raw_data(), value.raw_data(), value.TotalBytes());
  }
  return out;
}

}  // namespace tools
}  // namespace ckpt
