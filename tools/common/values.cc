#include "common/values.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/numeric.h"

namespace ckpt {
namespace tools {
namespace {

// NumPy's print options (np.get_printoptions() defaults).
constexpr int kPrecision = 8;
constexpr int kEdgeItems = 3;
constexpr int kLineWidth = 75;

// ---------------------------------------------------------------------------
// Exact decimal digits of a binary floating-point value.
//
// NumPy prints floats with its Dragon4 implementation: the fewest digits that
// still identify the value among its neighbours in the value's own format,
// optionally cut off after a number of digits (then rounded correctly, ties
// to even) or continued to a minimum number of (exact) digits. Reproducing
// its output digit for digit needs exact arithmetic, hence the big integers.

// Non-negative integers of any size, just the operations digit generation
// needs. Little-endian 32-bit words, no leading zero words.
class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(uint64_t v) {
    while (v != 0) {
      words_.push_back(static_cast<uint32_t>(v));
      v >>= 32;
    }
  }

  bool IsZero() const { return words_.empty(); }

  void ShiftLeft(int bits) {
    if (words_.empty() || bits == 0) return;
    const size_t whole = static_cast<size_t>(bits / 32);
    const int part = bits % 32;
    std::vector<uint32_t> out(words_.size() + whole + 1, 0);
    for (size_t i = 0; i < words_.size(); ++i) {
      const uint64_t x = static_cast<uint64_t>(words_[i]) << part;
      out[i + whole] |= static_cast<uint32_t>(x);
      out[i + whole + 1] |= static_cast<uint32_t>(x >> 32);
    }
    words_ = std::move(out);
    Trim();
  }

  void Multiply(uint32_t m) {
    uint64_t carry = 0;
    for (uint32_t& w : words_) {
      const uint64_t p = static_cast<uint64_t>(w) * m + carry;
      w = static_cast<uint32_t>(p);
      carry = p >> 32;
    }
    if (carry != 0) words_.push_back(static_cast<uint32_t>(carry));
    if (m == 0) words_.clear();
  }

  void MultiplyPow10(int n) {
    static const uint32_t kPow10[] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};
    for (; n >= 9; n -= 9) Multiply(1000000000u);
    if (n > 0) Multiply(kPow10[n]);
  }

  void Add(const BigUint& other) {
    if (words_.size() < other.words_.size()) words_.resize(other.words_.size(), 0);
    uint64_t carry = 0;
    for (size_t i = 0; i < words_.size(); ++i) {
      const uint64_t s = static_cast<uint64_t>(words_[i]) +
                         (i < other.words_.size() ? other.words_[i] : 0) + carry;
      words_[i] = static_cast<uint32_t>(s);
      carry = s >> 32;
    }
    if (carry != 0) words_.push_back(static_cast<uint32_t>(carry));
  }

  // Requires *this >= other.
  void Subtract(const BigUint& other) {
    int64_t borrow = 0;
    for (size_t i = 0; i < words_.size(); ++i) {
      int64_t d = static_cast<int64_t>(words_[i]) - borrow -
                  (i < other.words_.size() ? static_cast<int64_t>(other.words_[i]) : 0);
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += int64_t{1} << 32;
      words_[i] = static_cast<uint32_t>(d);
    }
    Trim();
  }

  // -1, 0 or 1 as a <, ==, > b.
  static int Compare(const BigUint& a, const BigUint& b) {
    if (a.words_.size() != b.words_.size()) return a.words_.size() < b.words_.size() ? -1 : 1;
    for (size_t i = a.words_.size(); i-- > 0;) {
      if (a.words_[i] != b.words_[i]) return a.words_[i] < b.words_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  void Trim() {
    while (!words_.empty() && words_.back() == 0) words_.pop_back();
  }

  std::vector<uint32_t> words_;
};

// A binary floating-point format: `bits` significant bits (with the implicit
// one) and `min_exponent`, the exponent of the last bit of a subnormal, so
// that every value is m * 2^e with m < 2^bits and e >= min_exponent.
struct BinaryFormat {
  int bits;
  int min_exponent;
};

constexpr BinaryFormat kFloat64{53, -1074};
constexpr BinaryFormat kFloat32{24, -149};
constexpr BinaryFormat kFloat16{11, -24};

// Where a cutoff counts from: significant digits (scientific notation) or
// digits after the decimal point (positional notation).
enum class Cutoff { kTotalLength, kFractionLength };

// value = 0.d1 d2 d3 ... * 10^(exponent + 1), i.e. d1 is the 10^exponent digit.
struct DecimalDigits {
  std::string digits;
  int exponent = 0;
};

// The digits NumPy prints for `v` (finite, >= 0, exactly representable in
// `format`) in its unique-digits mode. `cutoff_max` >= 0 caps the digits
// (counted as `mode` says); `cutoff_min` >= 0 asks for at least that many,
// taken from the exact value past the unique ones.
DecimalDigits GenerateDigits(double v, BinaryFormat format, Cutoff mode, int cutoff_max,
                             int cutoff_min) {
  DecimalDigits out;
  if (v == 0) {
    out.digits = "0";
    return out;
  }
  int exp2;
  std::frexp(v, &exp2);  // v = m * 2^exp2 with m in [0.5, 1)
  const int e = std::max(exp2 - format.bits, format.min_exponent);
  const uint64_t mantissa = static_cast<uint64_t>(std::ldexp(v, -e));
  // Values at the bottom of a binade (but not the smallest normal one) have
  // a neighbour below that is half as far as the one above.
  const bool unequal_margins =
      mantissa == (uint64_t{1} << (format.bits - 1)) && e > format.min_exponent;
  // Round-half-even reading: a decimal exactly halfway to a neighbour still
  // reads back as this value when the mantissa is even.
  const bool even = (mantissa & 1) == 0;

  // v = value / scale; margin_low and margin_high are half the distance to
  // the neighbours below and above, on the same scale. Everything is scaled
  // by 2 (or 4) so that the half distances are integers.
  const int extra = unequal_margins ? 2 : 1;
  BigUint value(mantissa), scale(1), margin_low(1);
  if (e >= 0) {
    value.ShiftLeft(e + extra);
    scale.ShiftLeft(extra);
    margin_low.ShiftLeft(e);
  } else {
    value.ShiftLeft(extra);
    scale.ShiftLeft(extra - e);
  }
  BigUint margin_high = margin_low;
  if (unequal_margins) margin_high.ShiftLeft(1);

  // Estimate floor(log10(v)) + 1; the estimate is exact or one too small
  // (the 0.69 pushes doubtful cases to "too small", which is corrected
  // below).
  int msb = 63;
  while (((mantissa >> msb) & 1) == 0) --msb;
  int digit_exponent = static_cast<int>(std::ceil((msb + e) * 0.30102999566398119521 - 0.69));
  // Fraction cutoff: digits before the first printed position cannot matter.
  if (cutoff_max >= 0 && mode == Cutoff::kFractionLength && digit_exponent <= -cutoff_max) {
    digit_exponent = -cutoff_max + 1;
  }
  if (digit_exponent > 0) {
    scale.MultiplyPow10(digit_exponent);
  } else if (digit_exponent < 0) {
    value.MultiplyPow10(-digit_exponent);
    margin_low.MultiplyPow10(-digit_exponent);
    margin_high.MultiplyPow10(-digit_exponent);
  }
  if (BigUint::Compare(value, scale) >= 0) {
    ++digit_exponent;
  } else {
    value.Multiply(10);
    margin_low.Multiply(10);
    margin_high.Multiply(10);
  }
  // value / scale is now in [0, 10): the first digit's place is
  // 10^(digit_exponent - 1).

  int cutoff_max_exponent = std::numeric_limits<int>::min();
  if (cutoff_max >= 0) {
    cutoff_max_exponent =
        mode == Cutoff::kTotalLength ? digit_exponent - cutoff_max : -cutoff_max;
  }
  int cutoff_min_exponent = digit_exponent;
  if (cutoff_min >= 0) {
    cutoff_min_exponent = std::min(
        cutoff_min_exponent, mode == Cutoff::kTotalLength ? digit_exponent - cutoff_min : -cutoff_min);
  }
  out.exponent = digit_exponent - 1;

  bool low = false, high = false;
  int digit = 0;
  for (;;) {
    --digit_exponent;
    digit = 0;
    while (BigUint::Compare(value, scale) >= 0) {
      value.Subtract(scale);
      ++digit;
    }
    BigUint value_high = value;
    value_high.Add(margin_high);
    const int cmp_low = BigUint::Compare(value, margin_low);
    const int cmp_high = BigUint::Compare(value_high, scale);
    low = even ? cmp_low <= 0 : cmp_low < 0;
    high = even ? cmp_high >= 0 : cmp_high > 0;
    if (((low || high) && digit_exponent <= cutoff_min_exponent) ||
        digit_exponent == cutoff_max_exponent) {
      break;
    }
    out.digits.push_back(static_cast<char>('0' + digit));
    value.Multiply(10);
    margin_low.Multiply(10);
    margin_high.Multiply(10);
  }

  // The last digit: down if only the lower neighbour is safe, up if only the
  // upper one is, else to nearest (ties to an even digit).
  bool round_down = low;
  if (low == high) {
    value.ShiftLeft(1);
    const int cmp = BigUint::Compare(value, scale);
    round_down = cmp < 0 || (cmp == 0 && digit % 2 == 0);
  }
  if (round_down) {
    out.digits.push_back(static_cast<char>('0' + digit));
  } else if (digit < 9) {
    out.digits.push_back(static_cast<char>('0' + digit + 1));
  } else {
    // Carry: drop trailing nines and bump the digit before them.
    while (!out.digits.empty() && out.digits.back() == '9') out.digits.pop_back();
    if (out.digits.empty()) {
      out.digits = "1";
      ++out.exponent;
    } else {
      ++out.digits.back();
    }
  }
  return out;
}

// What happens to trailing zeros, as numpy's `trim` argument: 'k' keeps them
// (and pads to min_digits), '.' drops them but keeps the point, '0' leaves
// one zero after the point, '-' drops the point too.
enum class Trim { kKeep, kZeros, kLeaveOneZero, kDropPoint };

struct DigitOptions {
  int precision = -1;   // cutoff; -1 for none
  int min_digits = -1;  // -1 for none
  Trim trim = Trim::kKeep;
  bool plus_sign = false;
  int pad_left = -1;    // characters before the point, sign included
  int pad_right = -1;   // characters after the point
  int exp_digits = -1;  // minimum exponent digits; -1 means 2
};

std::string SignPrefix(double v, bool plus_sign) {
  if (std::signbit(v)) return "-";
  return plus_sign ? "+" : "";
}

// np.format_float_positional(v, fractional=True, unique=True, ...).
std::string FormatPositional(double v, BinaryFormat format, const DigitOptions& o) {
  const std::string sign = SignPrefix(v, o.plus_sign);
  const DecimalDigits d =
      GenerateDigits(std::fabs(v), format, Cutoff::kFractionLength, o.precision, o.min_digits);
  const int n = static_cast<int>(d.digits.size());
  std::string body;
  int whole = 1;
  int fraction = 0;
  if (d.exponent >= 0) {
    whole = d.exponent + 1;
    if (n <= whole) {
      body = d.digits + std::string(whole - n, '0');
    } else {
      body = d.digits.substr(0, whole) + "." + d.digits.substr(whole);
      fraction = n - whole;
    }
  } else {
    const int zeros = -(d.exponent + 1);
    body = "0." + std::string(zeros, '0') + d.digits;
    fraction = zeros + n;
  }
  if (o.trim != Trim::kDropPoint && fraction == 0) body += '.';
  const int wanted = std::max(o.min_digits, 0);
  if (o.trim == Trim::kLeaveOneZero) {
    if (fraction == 0) {
      body += '0';
      ++fraction;
    }
  } else if (o.trim == Trim::kKeep && wanted > fraction) {
    body.append(wanted - fraction, '0');
    fraction = wanted;
  }
  if (o.trim != Trim::kKeep && fraction > 0) {
    while (body.back() == '0') {
      body.pop_back();
      --fraction;
    }
    if (body.back() == '.') {
      if (o.trim == Trim::kLeaveOneZero) {
        body += '0';
        ++fraction;
      } else if (o.trim == Trim::kDropPoint) {
        body.pop_back();
      }
    }
  }
  if (o.pad_right >= fraction) {
    if (o.trim == Trim::kDropPoint && fraction == 0) body += ' ';
    body.append(o.pad_right - fraction, ' ');
  }
  std::string out = sign + body;
  const int left = whole + static_cast<int>(sign.size());
  if (o.pad_left > left) out.insert(0, o.pad_left - left, ' ');
  return out;
}

// np.format_float_scientific(v, unique=True, ...).
std::string FormatScientific(double v, BinaryFormat format, const DigitOptions& o) {
  const std::string sign = SignPrefix(v, o.plus_sign);
  std::string out;
  const int left = 1 + static_cast<int>(sign.size());
  if (o.pad_left > left) out.append(o.pad_left - left, ' ');
  out += sign;
  const DecimalDigits d =
      GenerateDigits(std::fabs(v), format, Cutoff::kTotalLength,
                     o.precision < 0 ? -1 : o.precision + 1, o.min_digits < 0 ? -1 : o.min_digits + 1);
  out += d.digits[0];
  int fraction = static_cast<int>(d.digits.size()) - 1;
  if (fraction > 0) out += "." + d.digits.substr(1);
  if (o.trim != Trim::kDropPoint && fraction == 0) out += '.';
  const int wanted = std::max(o.min_digits, 0);
  if (o.trim == Trim::kLeaveOneZero) {
    if (fraction == 0) {
      out += '0';
      ++fraction;
    }
  } else if (o.trim == Trim::kKeep && wanted > fraction) {
    out.append(wanted - fraction, '0');
    fraction = wanted;
  }
  if (o.trim != Trim::kKeep && fraction > 0) {
    while (out.back() == '0') out.pop_back();
    if (o.trim == Trim::kLeaveOneZero && out.back() == '.') out += '0';
  }
  int exp_digits = o.exp_digits < 0 ? 2 : std::min(o.exp_digits, 5);
  const int exponent = d.exponent;
  std::string magnitude = absl::StrCat(exponent < 0 ? -exponent : exponent);
  if (static_cast<int>(magnitude.size()) < exp_digits) {
    magnitude.insert(0, exp_digits - magnitude.size(), '0');
  }
  out += exponent < 0 ? "e-" : "e+";
  out += magnitude;
  return out;
}

// `x` rounded to `bits` significant bits (ties to even): the result of an
// arithmetic operation done in a narrower format.
double RoundToBits(double x, int bits) {
  if (x == 0 || !std::isfinite(x) || bits >= 53) return x;
  int exp2;
  const double m = std::frexp(x, &exp2);
  return std::ldexp(std::nearbyint(std::ldexp(m, bits)), exp2 - bits);
}

// str() of a NumPy float scalar: Python's repr style, shortest digits.
std::string FloatScalarString(double v, BinaryFormat format) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  const double a = std::fabs(v);
  DigitOptions o;
  if (a == 0 || (a >= 1e-4 && a < 1e16)) {
    o.trim = Trim::kLeaveOneZero;
    return FormatPositional(v, format, o);
  }
  o.trim = Trim::kDropPoint;
  return FormatScientific(v, format, o);
}

// A part of a complex scalar: like the float scalar but "1" rather than "1.0".
std::string ComplexPartString(double v, BinaryFormat format, bool plus_sign) {
  if (std::isnan(v)) return plus_sign ? "+nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : (plus_sign ? "+inf" : "inf");
  const double a = std::fabs(v);
  DigitOptions o;
  o.trim = Trim::kDropPoint;
  o.plus_sign = plus_sign;
  if (a == 0 || (a >= 1e-4 && a < 1e16)) return FormatPositional(v, format, o);
  return FormatScientific(v, format, o);
}

// str() of a NumPy complex scalar: "(1+2j)", or "2j" when the real part is +0.
std::string ComplexScalarString(double re, double im, BinaryFormat format) {
  if (re == 0 && !std::signbit(re)) return ComplexPartString(im, format, false) + "j";
  return "(" + ComplexPartString(re, format, false) + ComplexPartString(im, format, true) + "j)";
}

// ---------------------------------------------------------------------------
// Element formatters, fitted (like NumPy's) to the elements that are shown.

class ElementFormatter {
 public:
  virtual ~ElementFormatter() = default;
  virtual std::string Format(int64_t i) const = 0;
};

// NumPy's FloatingFormat for one real array (a complex array has two).
class FloatColumn {
 public:
  FloatColumn(BinaryFormat format, bool plus_sign) : format_(format), plus_sign_(plus_sign) {}

  void Fit(const std::vector<double>& values) {
    std::vector<double> finite;
    bool any_neg_inf = false;
    for (double v : values) {
      if (std::isfinite(v)) {
        finite.push_back(v);
      } else if (std::isinf(v) && v < 0) {
        any_neg_inf = true;
      }
    }
    double max_abs = 0, min_abs = std::numeric_limits<double>::infinity();
    for (double v : finite) {
      if (v == 0) continue;
      max_abs = std::max(max_abs, std::fabs(v));
      min_abs = std::min(min_abs, std::fabs(v));
    }
    if (max_abs > 0) {
      // NumPy divides in the array's own type.
      exp_format_ = max_abs >= 1e8 || min_abs < 1e-4 ||
                    RoundToBits(max_abs / min_abs, format_.bits) > 1000.0;
    }

    if (finite.empty()) {
      pad_left_ = 0;
      pad_right_ = 0;
      min_digits_ = -1;
    } else if (exp_format_) {
      DigitOptions o;
      o.precision = kPrecision;
      o.trim = Trim::kZeros;
      o.plus_sign = plus_sign_;
      int max_fraction = 0, max_int = 0, max_exp = 0;
      for (double v : finite) {
        const std::string s = FormatScientific(v, format_, o);
        const size_t e = s.find('e');
        const size_t point = s.find('.');
        max_int = std::max(max_int, static_cast<int>(point));
        max_fraction = std::max(max_fraction, static_cast<int>(e - point - 1));
        max_exp = std::max(max_exp, static_cast<int>(s.size() - e - 2));
      }
      exp_size_ = max_exp;
      precision_ = max_fraction;
      min_digits_ = max_fraction;
      pad_left_ = max_int;
      pad_right_ = exp_size_ + 2 + precision_;
    } else {
      DigitOptions o;
      o.precision = kPrecision;
      o.trim = Trim::kZeros;
      o.plus_sign = plus_sign_;
      int max_fraction = 0, max_int = 0;
      for (double v : finite) {
        const std::string s = FormatPositional(v, format_, o);
        const size_t point = s.find('.');
        max_int = std::max(max_int, static_cast<int>(point));
        max_fraction = std::max(max_fraction, static_cast<int>(s.size() - point - 1));
      }
      pad_left_ = max_int;
      pad_right_ = max_fraction;
      min_digits_ = 0;
    }
    if (finite.size() != values.size()) {
      // Room for "nan" and "inf" (with its sign) in the padded width.
      const int inf_len = 3 + ((plus_sign_ || any_neg_inf) ? 1 : 0);
      const int offset = pad_right_ + 1;
      pad_left_ = std::max({pad_left_, 3 - offset, inf_len - offset});
    }
  }

  std::string Format(double v) const {
    if (!std::isfinite(v)) {
      std::string s;
      if (std::isnan(v)) {
        s = plus_sign_ ? "+nan" : "nan";
      } else {
        s = v < 0 ? "-inf" : (plus_sign_ ? "+inf" : "inf");
      }
      const int width = pad_left_ + pad_right_ + 1;
      if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), ' ');
      return s;
    }
    DigitOptions o;
    o.plus_sign = plus_sign_;
    o.pad_left = pad_left_;
    o.min_digits = min_digits_;
    if (exp_format_) {
      o.precision = precision_;
      o.trim = Trim::kKeep;
      o.exp_digits = exp_size_;
      return FormatScientific(v, format_, o);
    }
    o.precision = kPrecision;
    o.trim = Trim::kZeros;
    o.pad_right = pad_right_;
    return FormatPositional(v, format_, o);
  }

 private:
  BinaryFormat format_;
  bool plus_sign_;
  bool exp_format_ = false;
  int pad_left_ = 0;
  int pad_right_ = 0;
  int precision_ = kPrecision;
  int min_digits_ = -1;
  int exp_size_ = -1;
};

BinaryFormat FormatOf(DType dtype) {
  switch (dtype) {
    case DT_DOUBLE:
    case DT_COMPLEX128:
      return kFloat64;
    case DT_HALF:
      return kFloat16;
    default:
      // float32, and the narrow formats NumPy lacks, shown as float32.
      return kFloat32;
  }
}

class RealFormatter : public ElementFormatter {
 public:
  RealFormatter(const Tensor& t, const std::vector<int64_t>& shown)
      : t_(t), column_(FormatOf(t.dtype()), false) {
    std::vector<double> values;
    values.reserve(shown.size());
    for (int64_t i : shown) values.push_back(ComponentAsDouble(t, i));
    column_.Fit(values);
  }
  std::string Format(int64_t i) const override { return column_.Format(ComponentAsDouble(t_, i)); }

 private:
  const Tensor& t_;
  FloatColumn column_;
};

class ComplexFormatter : public ElementFormatter {
 public:
  ComplexFormatter(const Tensor& t, const std::vector<int64_t>& shown)
      : t_(t), real_(FormatOf(t.dtype()), false), imag_(FormatOf(t.dtype()), true) {
    std::vector<double> re, im;
    for (int64_t i : shown) {
      re.push_back(ComponentAsDouble(t, i, 0));
      im.push_back(ComponentAsDouble(t, i, 1));
    }
    real_.Fit(re);
    imag_.Fit(im);
  }
  std::string Format(int64_t i) const override {
    std::string im = imag_.Format(ComponentAsDouble(t_, i, 1));
    // The "j" goes right after the digits, before any padding.
    size_t end = im.find_last_not_of(' ') + 1;
    im.insert(end, "j");
    return real_.Format(ComponentAsDouble(t_, i, 0)) + im;
  }

 private:
  const Tensor& t_;
  FloatColumn real_;
  FloatColumn imag_;
};

std::string IntegerString(const Tensor& t, int64_t i) {
  if (t.dtype() == DT_UINT64) return absl::StrCat(UnsignedValue(t, i));
  return absl::StrCat(IntegralValue(t, i));
}

// Right-aligned to the widest shown value.
class IntegerFormatter : public ElementFormatter {
 public:
  IntegerFormatter(const Tensor& t, const std::vector<int64_t>& shown) : t_(t) {
    for (int64_t i : shown) width_ = std::max(width_, IntegerString(t, i).size());
  }
  std::string Format(int64_t i) const override {
    std::string s = IntegerString(t_, i);
    if (s.size() < width_) s.insert(0, width_ - s.size(), ' ');
    return s;
  }

 private:
  const Tensor& t_;
  size_t width_ = 0;
};

class BoolFormatter : public ElementFormatter {
 public:
  explicit BoolFormatter(const Tensor& t) : t_(t) {}
  // " True" lines up with "False".
  std::string Format(int64_t i) const override { return IntegralValue(t_, i) ? " True" : "False"; }

 private:
  const Tensor& t_;
};

class BytesFormatter : public ElementFormatter {
 public:
  explicit BytesFormatter(const Tensor& t) : t_(t) {}
  std::string Format(int64_t i) const override { return PythonBytesRepr(t_.strings()[i]); }

 private:
  const Tensor& t_;
};

std::unique_ptr<ElementFormatter> MakeFormatter(const Tensor& t,
                                                const std::vector<int64_t>& shown) {
  const DType dtype = t.dtype();
  if (dtype == DT_STRING) return std::make_unique<BytesFormatter>(t);
  if (dtype == DT_BOOL) return std::make_unique<BoolFormatter>(t);
  if (IsIntegral(dtype)) return std::make_unique<IntegerFormatter>(t, shown);
  if (IsComplex(dtype)) return std::make_unique<ComplexFormatter>(t, shown);
  return std::make_unique<RealFormatter>(t, shown);
}

std::string ScalarString(const Tensor& t) {
  const DType dtype = t.dtype();
  if (dtype == DT_STRING) return PythonBytesRepr(t.strings()[0]);
  if (dtype == DT_BOOL) return IntegralValue(t, 0) ? "True" : "False";
  if (IsIntegral(dtype)) return IntegerString(t, 0);
  if (IsComplex(dtype)) {
    return ComplexScalarString(ComponentAsDouble(t, 0, 0), ComponentAsDouble(t, 0, 1),
                               FormatOf(dtype));
  }
  return FloatScalarString(ComponentAsDouble(t, 0), FormatOf(dtype));
}

// ---------------------------------------------------------------------------
// Layout: NumPy's nested brackets and line wrapping.

class ArrayLayout {
 public:
  ArrayLayout(const std::vector<int64_t>& dims, bool summarize)
      : dims_(dims), strides_(dims.size(), 1), summarize_(summarize) {
    for (size_t a = dims.size(); a-- > 1;) strides_[a - 1] = strides_[a] * dims[a];
  }

  // Positions shown along `axis`, in order; -1 stands for the "..." row.
  std::vector<int64_t> Positions(int axis) const {
    const int64_t n = dims_[axis];
    std::vector<int64_t> out;
    if (summarize_ && n > 2 * kEdgeItems) {
      for (int64_t i = 0; i < kEdgeItems; ++i) out.push_back(i);
      out.push_back(-1);
      for (int64_t i = n - kEdgeItems; i < n; ++i) out.push_back(i);
    } else {
      for (int64_t i = 0; i < n; ++i) out.push_back(i);
    }
    return out;
  }

  // Flat indices of every element shown.
  std::vector<int64_t> ShownElements() const {
    std::vector<int64_t> out;
    CollectShown(0, 0, &out);
    return out;
  }

  std::string Render(const ElementFormatter& f) const { return Recurse(f, 0, 0, " ", kLineWidth); }

 private:
  void CollectShown(int axis, int64_t offset, std::vector<int64_t>* out) const {
    if (axis == static_cast<int>(dims_.size())) {
      out->push_back(offset);
      return;
    }
    for (int64_t p : Positions(axis)) {
      if (p >= 0) CollectShown(axis + 1, offset + p * strides_[axis], out);
    }
  }

  // Appends `word` to `line`, first moving `line` into `s` when the word
  // would pass `width` (unless the line holds nothing but its indent, where
  // wrapping would not help).
  static void ExtendLine(std::string* s, std::string* line, const std::string& word, size_t width,
                         const std::string& indent) {
    if (line->size() + word.size() > width && line->size() > indent.size()) {
      const size_t end = line->find_last_not_of(' ');
      *s += line->substr(0, end == std::string::npos ? 0 : end + 1);
      *s += '\n';
      *line = indent;
    }
    *line += word;
  }

  // `indent` is the hanging indent of this level's lines; the first one's is
  // replaced by "[". `width` is the column the closing brackets may reach.
  std::string Recurse(const ElementFormatter& f, int axis, int64_t offset,
                      const std::string& indent, int width) const {
    const int axes_left = static_cast<int>(dims_.size()) - axis;
    const std::vector<int64_t> positions = Positions(axis);
    std::string s;
    if (axes_left == 1) {
      // Room for the "]" after the last element.
      const size_t element_width = static_cast<size_t>(width - 1);
      std::string line = indent;
      for (size_t k = 0; k < positions.size(); ++k) {
        const int64_t p = positions[k];
        ExtendLine(&s, &line, p < 0 ? "..." : f.Format(offset + p * strides_[axis]),
                   element_width, indent);
        if (k + 1 < positions.size()) line += ' ';
      }
      s += line;
    } else {
      const std::string separator(axes_left - 1, '\n');
      const std::string next_indent = indent + " ";
      for (size_t k = 0; k < positions.size(); ++k) {
        const int64_t p = positions[k];
        s += indent;
        s += p < 0 ? "..." : Recurse(f, axis + 1, offset + p * strides_[axis], next_indent, width - 1);
        if (k + 1 < positions.size()) s += separator;
      }
    }
    return "[" + s.substr(indent.size()) + "]";
  }

  std::vector<int64_t> dims_;
  std::vector<int64_t> strides_;
  bool summarize_;
};

}  // namespace

std::string PythonBytesRepr(absl::string_view bytes) {
  // Python prefers single quotes, unless only they occur in the bytes.
  const bool has_single = bytes.find('\'') != absl::string_view::npos;
  const bool has_double = bytes.find('"') != absl::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out = "b";
  out += quote;
  for (char ch : bytes) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == static_cast<unsigned char>(quote) || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

std::string FormatValues(const Tensor& t, int64_t max_elements) {
  const DType dtype = t.dtype();
  const int64_t n = t.NumElements();
  if (!t.valid() || n < 0) return "<invalid tensor>";
  if (dtype != DT_STRING && !IsNumeric(dtype)) {
    return absl::StrCat("<", n, " values of dtype ", DTypeName(dtype), ": not printable>");
  }
  const bool complete = dtype == DT_STRING
                            ? t.strings().size() == static_cast<size_t>(n)
                            : t.TotalBytes() >= static_cast<size_t>(n) * DTypeSize(dtype);
  if (!complete) return absl::StrCat("<", DTypeName(dtype), " tensor without its values>");
  if (n == 0) return "[]";
  if (t.shape().rank() == 0) return ScalarString(t);

  const ArrayLayout layout(t.shape().dims(), max_elements >= 0 && n > max_elements);
  const std::unique_ptr<ElementFormatter> formatter = MakeFormatter(t, layout.ShownElements());
  return layout.Render(*formatter);
}

}  // namespace tools
}  // namespace ckpt
