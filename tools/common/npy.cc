#include "common/npy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/status_macros.h"
#include "common/numeric.h"

namespace ckpt {
namespace tools {
namespace {

// Format constants of numpy.lib.format.
constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kPreambleLen = kMagicLen + 2;  // magic + major + minor
constexpr size_t kAlign = 64;  // np.save aligns the data to this many bytes
// np.save leaves room in the header for the first dimension to grow to this
// many digits, so that appending rows can rewrite the header in place.
constexpr size_t kGrowthAxisDigits = 21;
// Headers are a few dozen bytes; anything near this is not an array header.
constexpr uint64_t kMaxHeaderLen = 1 << 20;
// A 'S<n>'/'U<n>' width beyond this is not a real file's.
constexpr uint64_t kMaxStringWidth = uint64_t{1} << 31;

constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

using Layout = NpyLayout;
using ElementKind = NpyLayout::Kind;

std::string Quoted(absl::string_view text) { return absl::StrCat("'", text, "'"); }

// The subset of Python literals an .npy header uses: strings, True/False,
// integers, tuples of integers; lists are recognized only to be refused
// (they describe structured dtypes).
struct PyValue {
  enum Kind { kString, kBool, kInt, kTuple, kList } kind = kString;
  std::string text;
  bool boolean = false;
  std::vector<int64_t> ints;
};

class HeaderParser {
 public:
  HeaderParser(absl::string_view text, absl::string_view filename)
      : text_(text), filename_(filename) {}

  absl::Status ParseDict(std::vector<std::pair<std::string, PyValue>>* out) {
    SkipSpace();
    if (!Consume('{')) return Error("expected '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      PyValue key;
      CKPT_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Consume(':')) return Error("expected ':'");
      PyValue value;
      CKPT_RETURN_IF_ERROR(ParseValue(&value));
      for (const auto& kv : *out) {
        if (kv.first == key.text) return Error(absl::StrCat("key ", Quoted(key.text), " repeated"));
      }
      out->emplace_back(key.text, std::move(value));
      SkipSpace();
      if (Consume('}')) break;
      if (!Consume(',')) return Error("expected ',' or '}'");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the dict");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        filename_, ": malformed .npy header at byte ", pos_, " of the header: ", what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status ParseString(PyValue* v) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    const char quote = text_[pos_++];
    v->kind = PyValue::kString;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      // Type strings and key names never need escapes; one is kept verbatim
      // so that the string still ends at the right quote.
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) v->text.push_back(text_[pos_++]);
      v->text.push_back(text_[pos_++]);
    }
    if (!Consume(quote)) return Error("unterminated string");
    return absl::OkStatus();
  }

  absl::Status ParseInt(int64_t* out) {
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    if (pos_ == start) {
      if (pos_ < text_.size() && text_[pos_] == '-') return Error("negative dimension");
      return Error("expected a whole number");
    }
    if (!absl::SimpleAtoi(text_.substr(start, pos_ - start), out)) {
      return Error(absl::StrCat("number ", text_.substr(start, pos_ - start), " is too large"));
    }
    Consume('L');  // Python 2 wrote long integers with a suffix
    return absl::OkStatus();
  }

  absl::Status ParseValue(PyValue* v) {
    SkipSpace();
    if (pos_ >= text_.size()) return Error("expected a value");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') return ParseString(v);
    if (ConsumeWord("True")) {
      v->kind = PyValue::kBool;
      v->boolean = true;
      return absl::OkStatus();
    }
    if (ConsumeWord("False")) {
      v->kind = PyValue::kBool;
      v->boolean = false;
      return absl::OkStatus();
    }
    if (c == '(') {
      ++pos_;
      v->kind = PyValue::kTuple;
      while (true) {
        SkipSpace();
        if (Consume(')')) break;
        int64_t n = 0;
        CKPT_RETURN_IF_ERROR(ParseInt(&n));
        v->ints.push_back(n);
        SkipSpace();
        if (Consume(')')) break;
        if (!Consume(',')) return Error("expected ',' or ')' in the shape");
      }
      return absl::OkStatus();
    }
    if (c == '[') {
      // Skipped whole: only its presence matters.
      int depth = 0;
      char quote = 0;
      for (; pos_ < text_.size(); ++pos_) {
        const char d = text_[pos_];
        if (quote != 0) {
          if (d == quote) quote = 0;
        } else if (d == '\'' || d == '"') {
          quote = d;
        } else if (d == '[') {
          ++depth;
        } else if (d == ']' && --depth == 0) {
          ++pos_;
          v->kind = PyValue::kList;
          return absl::OkStatus();
        }
      }
      return Error("unterminated list");
    }
    v->kind = PyValue::kInt;
    int64_t n = 0;
    CKPT_RETURN_IF_ERROR(ParseInt(&n));
    v->ints.push_back(n);
    return absl::OkStatus();
  }

  absl::string_view text_;
  absl::string_view filename_;
  size_t pos_ = 0;
};

// Fills dtype, kind, itemsize and swap from a type string such as "<f4".
absl::Status ParseDescr(const std::string& descr, absl::string_view filename, Layout* layout) {
  absl::string_view d = descr;
  bool little = kHostLittleEndian;
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    if (d[0] == '<') little = true;
    if (d[0] == '>') little = false;
    d.remove_prefix(1);
  }
  uint64_t size = 0;
  if (d.size() < 2 || !absl::SimpleAtoi(d.substr(1), &size) ||
      !(d[1] >= '0' && d[1] <= '9')) {
    return absl::UnimplementedError(absl::StrCat(
        filename, ": .npy element type ", Quoted(descr),
        " is not supported (only plain numbers, bools and byte or text strings)"));
  }
  const char kind = d[0];
  DType dtype = DT_INVALID;
  switch (kind) {
    case 'f': dtype = size == 2 ? DT_HALF : size == 4 ? DT_FLOAT : size == 8 ? DT_DOUBLE : DT_INVALID; break;
    case 'i': dtype = size == 1 ? DT_INT8 : size == 2 ? DT_INT16 : size == 4 ? DT_INT32 : size == 8 ? DT_INT64 : DT_INVALID; break;
    case 'u': dtype = size == 1 ? DT_UINT8 : size == 2 ? DT_UINT16 : size == 4 ? DT_UINT32 : size == 8 ? DT_UINT64 : DT_INVALID; break;
    case 'b': dtype = size == 1 ? DT_BOOL : DT_INVALID; break;
    case 'c': dtype = size == 8 ? DT_COMPLEX64 : size == 16 ? DT_COMPLEX128 : DT_INVALID; break;
    case 'S':
    case 'U':
      if (size == 0 || size > kMaxStringWidth) {
        return absl::InvalidArgumentError(absl::StrCat(
            filename, ": .npy element type ", Quoted(descr), " has an impossible width"));
      }
      dtype = DT_STRING;
      break;
    default: break;
  }
  if (dtype == DT_INVALID) {
    return absl::UnimplementedError(absl::StrCat(
        filename, ": .npy element type ", Quoted(descr), " has no TensorFlow dtype"));
  }
  layout->dtype = dtype;
  layout->kind = kind == 'S' ? ElementKind::kBytes : kind == 'U' ? ElementKind::kUtf32 : ElementKind::kFixed;
  layout->itemsize = kind == 'U' ? size * 4 : size;
  layout->swap = little != kHostLittleEndian;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NpyLayout> ReadNpyLayout(const NpyReadFn& read, uint64_t file_size,
                                        absl::string_view filename) {
  if (file_size < kPreambleLen + 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        filename, ": not an .npy file (", file_size, " bytes, shorter than the magic and header length)"));
  }
  CKPT_ASSIGN_OR_RETURN(absl::string_view preamble, read(0, kPreambleLen));
  if (preamble.substr(0, kMagicLen) != absl::string_view(kMagic, kMagicLen)) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": not an .npy file (no \\x93NUMPY magic at the start)"));
  }
  const int major = static_cast<unsigned char>(preamble[6]);
  const int minor = static_cast<unsigned char>(preamble[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return absl::UnimplementedError(absl::StrCat(
        filename, ": .npy format version ", major, ".", minor, " is not supported (1.0, 2.0, 3.0 are)"));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (file_size < kPreambleLen + len_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": .npy file ends inside its header length"));
  }
  CKPT_ASSIGN_OR_RETURN(absl::string_view len_field, read(kPreambleLen, len_bytes));
  uint64_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) {
    header_len |= static_cast<uint64_t>(static_cast<unsigned char>(len_field[i])) << (8 * i);
  }
  const uint64_t header_start = kPreambleLen + len_bytes;
  if (header_len > file_size - header_start) {
    return absl::InvalidArgumentError(absl::StrCat(
        filename, ": .npy header length ", header_len, " runs past the end of the file (",
        file_size, " bytes)"));
  }
  if (header_len > kMaxHeaderLen) {
    return absl::InvalidArgumentError(absl::StrCat(
        filename, ": .npy header length ", header_len, " exceeds the limit of ", kMaxHeaderLen));
  }
  CKPT_ASSIGN_OR_RETURN(absl::string_view header, read(header_start, header_len));
  // Versions 1 and 2 are latin-1 and 3 is UTF-8; the keys and values we
  // accept are ASCII either way, so the bytes are parsed as they are.
  std::vector<std::pair<std::string, PyValue>> dict;
  CKPT_RETURN_IF_ERROR(HeaderParser(header, filename).ParseDict(&dict));

  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (const auto& kv : dict) {
    if (kv.first == "descr") {
      descr = &kv.second;
    } else if (kv.first == "fortran_order") {
      fortran = &kv.second;
    } else if (kv.first == "shape") {
      shape = &kv.second;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          filename, ": .npy header has an unexpected key ", Quoted(kv.first),
          " (only 'descr', 'fortran_order', 'shape')"));
    }
  }
  for (auto [value, key] : {std::make_pair(descr, "descr"), std::make_pair(fortran, "fortran_order"),
                            std::make_pair(shape, "shape")}) {
    if (value == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(filename, ": .npy header lacks '", key, "'"));
    }
  }
  if (descr->kind == PyValue::kList) {
    return absl::UnimplementedError(absl::StrCat(
        filename, ": .npy file holds a structured array (fields); only plain arrays are supported"));
  }
  if (descr->kind != PyValue::kString) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": .npy 'descr' is not a string"));
  }
  if (fortran->kind != PyValue::kBool) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": .npy 'fortran_order' is not True or False"));
  }
  if (fortran->boolean) {
    return absl::InvalidArgumentError(absl::StrCat(
        filename, ": .npy array is in Fortran (column-major) order; save it in C order "
        "(np.save(path, np.ascontiguousarray(a)))"));
  }
  if (shape->kind != PyValue::kTuple) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": .npy 'shape' is not a tuple"));
  }

  Layout layout;
  CKPT_RETURN_IF_ERROR(ParseDescr(descr->text, filename, &layout));
  absl::StatusOr<TensorShape> dims = TensorShape::FromDims(shape->ints);
  if (!dims.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": .npy shape is not valid: ", dims.status().message()));
  }
  layout.shape = *dims;
  layout.data_offset = header_start + header_len;
  layout.data_bytes = file_size - layout.data_offset;
  const uint64_t elements = static_cast<uint64_t>(layout.shape.num_elements());
  const std::string what = absl::StrCat(layout.shape.DebugString(), " of '", descr->text, "'");
  if (elements != 0 && layout.itemsize > layout.data_bytes / elements) {
    return absl::DataLossError(absl::StrCat(
        filename, ": .npy data is truncated: the header says ", what, " but only ",
        layout.data_bytes, " bytes follow it"));
  }
  if (elements * layout.itemsize != layout.data_bytes) {
    return absl::DataLossError(absl::StrCat(
        filename, ": .npy file has ", layout.data_bytes - elements * layout.itemsize,
        " bytes after the data of ", what));
  }
  return layout;
}

namespace {

void SwapBytes(char* data, size_t units, size_t unit) {
  for (size_t i = 0; i < units; ++i) std::reverse(data + i * unit, data + (i + 1) * unit);
}

}  // namespace

void FinishNpyFixed(const NpyLayout& layout, Tensor* t) {
  char* data = t->mutable_raw_data();
  if (layout.swap && layout.itemsize > 1) {
    const size_t unit = IsComplex(layout.dtype) ? layout.itemsize / 2 : layout.itemsize;
    SwapBytes(data, t->TotalBytes() / unit, unit);
  }
  if (layout.dtype == DT_BOOL) {
    for (size_t i = 0; i < t->TotalBytes(); ++i) data[i] = data[i] != 0 ? 1 : 0;
  }
}

namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace

absl::StatusOr<Tensor> DecodeNpyStrings(const NpyLayout& layout, absl::string_view data,
                                        absl::string_view filename) {
  CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::Allocate(DT_STRING, layout.shape));
  std::vector<std::string>& out = *t.mutable_strings();
  for (size_t i = 0; i < out.size(); ++i) {
    absl::string_view item = data.substr(i * layout.itemsize, layout.itemsize);
    if (layout.kind == ElementKind::kBytes) {
      size_t end = item.size();
      while (end > 0 && item[end - 1] == '\0') --end;
      out[i] = std::string(item.substr(0, end));
      continue;
    }
    std::vector<uint32_t> cps(item.size() / 4);
    for (size_t k = 0; k < cps.size(); ++k) {
      uint32_t cp = 0;
      for (int b = 0; b < 4; ++b) {
        const uint32_t byte = static_cast<unsigned char>(item[k * 4 + b]);
        const bool little = kHostLittleEndian != layout.swap;
        cp |= byte << (8 * (little ? b : 3 - b));
      }
      cps[k] = cp;
    }
    while (!cps.empty() && cps.back() == 0) cps.pop_back();
    for (uint32_t cp : cps) {
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return absl::InvalidArgumentError(absl::StrCat(
            filename, ": .npy text element ", i, " holds ", absl::Hex(cp),
            ", which is not a Unicode code point"));
      }
      AppendUtf8(cp, &out[i]);
    }
  }
  return t;
}

namespace {

std::string ShapeRepr(const TensorShape& shape) {
  if (shape.rank() == 1) return absl::StrCat("(", shape.dim(0), ",)");
  return absl::StrCat("(", absl::StrJoin(shape.dims(), ", "), ")");
}

void AppendLittleEndian(uint64_t v, size_t bytes, std::string* out) {
  for (size_t i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

absl::StatusOr<std::string> NpyDescr(DType dtype) {
  const char order = kHostLittleEndian ? '<' : '>';
  switch (dtype) {
    case DT_HALF: return absl::StrCat(std::string(1, order), "f2");
    case DT_FLOAT: return absl::StrCat(std::string(1, order), "f4");
    case DT_DOUBLE: return absl::StrCat(std::string(1, order), "f8");
    case DT_INT8: return std::string("|i1");
    case DT_INT16: return absl::StrCat(std::string(1, order), "i2");
    case DT_INT32: return absl::StrCat(std::string(1, order), "i4");
    case DT_INT64: return absl::StrCat(std::string(1, order), "i8");
    case DT_UINT8: return std::string("|u1");
    case DT_UINT16: return absl::StrCat(std::string(1, order), "u2");
    case DT_UINT32: return absl::StrCat(std::string(1, order), "u4");
    case DT_UINT64: return absl::StrCat(std::string(1, order), "u8");
    case DT_BOOL: return std::string("|b1");
    case DT_COMPLEX64: return absl::StrCat(std::string(1, order), "c8");
    case DT_COMPLEX128: return absl::StrCat(std::string(1, order), "c16");
    default:
      return absl::UnimplementedError(
          absl::StrCat("NumPy has no fixed type for dtype ", DTypeName(dtype)));
  }
}

std::string NpyHeader(absl::string_view descr, const TensorShape& shape) {
  std::string header = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ",
                                    ShapeRepr(shape), ", }");
  if (shape.rank() > 0) {
    header.append(kGrowthAxisDigits - absl::StrCat(shape.dim(0)).size(), ' ');
  }
  // The header ends with '\n' and is padded with spaces before it so that
  // the data starts on a multiple of kAlign (a whole kAlign of padding when
  // it would already: np.save's rule).
  int major = 1;
  size_t len_bytes = 2;
  size_t hlen = header.size() + 1;
  size_t pad = kAlign - (kPreambleLen + len_bytes + hlen) % kAlign;
  if (hlen + pad > 0xffff) {
    major = 2;
    len_bytes = 4;
    pad = kAlign - (kPreambleLen + len_bytes + hlen) % kAlign;
  }
  std::string out;
  out.reserve(kPreambleLen + len_bytes + hlen + pad);
  out.append(kMagic, kMagicLen);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  AppendLittleEndian(hlen + pad, len_bytes, &out);
  out += header;
  out.append(pad, ' ');
  out.push_back('\n');
  return out;
}

namespace {

// Decodes one element of UTF-8 into code points; false on a malformed or
// overlong sequence, a surrogate, or a value beyond U+10FFFF.
bool DecodeUtf8(absl::string_view text, std::vector<uint32_t>* out) {
  out->clear();
  size_t i = 0;
  while (i < text.size()) {
    const uint32_t b0 = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if (b0 < 0x80) {
      len = 1, cp = b0;
    } else if ((b0 & 0xe0) == 0xc0) {
      len = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
      len = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (text.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const uint32_t b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    out->push_back(cp);
    i += len;
  }
  return true;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  std::vector<uint32_t> unused;
  return DecodeUtf8(text, &unused);
}

absl::StatusOr<NpyStrings> EncodeNpyStrings(const Tensor& tensor, NpyStringType type,
                                            bool lossless) {
  if (tensor.dtype() != DT_STRING) {
    return absl::InvalidArgumentError(
        absl::StrCat("EncodeNpyStrings needs a string tensor, not ", tensor.DebugString()));
  }
  const std::vector<std::string>& items = tensor.strings();
  NpyStrings out;
  // NumPy gives even an array of empty strings a width of one.
  size_t width = 1;
  if (type == NpyStringType::kBytes) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (lossless && !items[i].empty() && items[i].back() == '\0') {
        return absl::InvalidArgumentError(absl::StrCat(
            "string element ", i, " ends in a NUL byte, which NumPy's fixed-width bytes "
            "('|S') cannot hold (it strips trailing NULs)"));
      }
      width = std::max(width, items[i].size());
    }
    out.descr = absl::StrCat("|S", width);
    out.data.reserve(width * items.size());
    for (const std::string& s : items) {
      out.data += s;
      out.data.append(width - s.size(), '\0');
    }
    return out;
  }
  std::vector<std::vector<uint32_t>> cps(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (!DecodeUtf8(items[i], &cps[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "string element ", i, " is not valid UTF-8, so NumPy unicode ('<U') cannot hold it"));
    }
    if (lossless && !cps[i].empty() && cps[i].back() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "string element ", i, " ends in U+0000, which NumPy unicode ('<U') strips"));
    }
    width = std::max(width, cps[i].size());
  }
  out.descr = absl::StrCat(kHostLittleEndian ? "<" : ">", "U", width);
  out.data.reserve(width * 4 * items.size());
  for (const std::vector<uint32_t>& element : cps) {
    for (size_t k = 0; k < width; ++k) {
      const uint32_t cp = k < element.size() ? element[k] : 0;
      char bytes[4];
      std::memcpy(bytes, &cp, 4);
      out.data.append(bytes, 4);
    }
  }
  return out;
}

absl::StatusOr<std::string> EncodeNpy(const Tensor& tensor) {
  if (!tensor.valid()) return absl::InvalidArgumentError("cannot write an invalid tensor as .npy");
  if (tensor.dtype() == DT_STRING) {
    CKPT_ASSIGN_OR_RETURN(NpyStrings strings,
                          EncodeNpyStrings(tensor, NpyStringType::kBytes, /*lossless=*/false));
    return NpyHeader(strings.descr, tensor.shape()) + strings.data;
  }
  CKPT_ASSIGN_OR_RETURN(std::string descr, NpyDescr(tensor.dtype()));
  std::string out = NpyHeader(descr, tensor.shape());
  out.append(tensor.raw_data(), tensor.TotalBytes());
  return out;
}

absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes, absl::string_view filename) {
  NpyReadFn read = [bytes](uint64_t offset, size_t n) -> absl::StatusOr<absl::string_view> {
    return bytes.substr(offset, n);
  };
  CKPT_ASSIGN_OR_RETURN(Layout layout, ReadNpyLayout(read, bytes.size(), filename));
  absl::string_view data = bytes.substr(layout.data_offset);
  if (layout.dtype == DT_STRING) return DecodeNpyStrings(layout, data, filename);
  CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::AllocateUninitialized(layout.dtype, layout.shape));
  if (!data.empty()) std::memcpy(t.mutable_raw_data(), data.data(), data.size());
  FinishNpyFixed(layout, &t);
  return t;
}

absl::StatusOr<Tensor> ReadNpyFile(const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ReadOnlyFile> file, env->NewReadOnlyFile(path));
  std::string scratch;
  NpyReadFn read = [&](uint64_t offset, size_t n) -> absl::StatusOr<absl::string_view> {
    scratch.resize(n);
    return file->Read(offset, n, scratch.data());
  };
  CKPT_ASSIGN_OR_RETURN(Layout layout, ReadNpyLayout(read, file->size(), path));
  if (layout.dtype == DT_STRING) {
    CKPT_ASSIGN_OR_RETURN(absl::string_view data, read(layout.data_offset, layout.data_bytes));
    return DecodeNpyStrings(layout, data, path);
  }
  CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::AllocateUninitialized(layout.dtype, layout.shape));
  if (layout.data_bytes > 0) {
    char* dst = t.mutable_raw_data();
    CKPT_ASSIGN_OR_RETURN(absl::string_view data, file->Read(layout.data_offset, layout.data_bytes, dst));
    if (data.data() != dst) std::memcpy(dst, data.data(), data.size());
  }
  FinishNpyFixed(layout, &t);
  return t;
}

absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor, Env* env) {
  if (env == nullptr) env = Env::Default();
  absl::StatusOr<std::string> bytes = EncodeNpy(tensor);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat(path, ": ", bytes.status().message()));
  }
  return WriteFileAtomically(env, path, *bytes);
}

}  // namespace tools
}  // namespace ckpt
