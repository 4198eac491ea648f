#include "ckpt/runtime/op_registry.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/optional.h"
#include "ckpt/runtime/op_defs/register.h"
#include "ckpt/status_macros.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace ckpt {

using ::tensorflow::AttrValue;
using ::tensorflow::NodeDef;
using ::tensorflow::OpDef;

namespace {

// Arguments a single node may have: far above any real op, low enough that a
// hostile attr (an Unpack with num = 2^40) cannot make us allocate without
// bound.
constexpr int64_t kMaxNodeArity = int64_t{1} << 20;

// The dtype spellings of TensorFlow's op specs (DataTypeString), which are
// also the names in our error messages.
struct SpecTypeName {
  DType type;
  const char* name;
};
constexpr SpecTypeName kSpecTypeNames[] = {
    {DT_FLOAT, "float"},
    {DT_DOUBLE, "double"},
    {DT_INT32, "int32"},
    {DT_UINT8, "uint8"},
    {DT_INT16, "int16"},
    {DT_INT8, "int8"},
    {DT_STRING, "string"},
    {DT_COMPLEX64, "complex64"},
    {DT_INT64, "int64"},
    {DT_BOOL, "bool"},
    {DT_QINT8, "qint8"},
    {DT_QUINT8, "quint8"},
    {DT_QINT32, "qint32"},
    {DT_BFLOAT16, "bfloat16"},
    {DT_QINT16, "qint16"},
    {DT_QUINT16, "quint16"},
    {DT_UINT16, "uint16"},
    {DT_COMPLEX128, "complex128"},
    {DT_HALF, "half"},
    {DT_RESOURCE, "resource"},
    {DT_VARIANT, "variant"},
    {DT_UINT32, "uint32"},
    {DT_UINT64, "uint64"},
    {DT_FLOAT8_E5M2, "float8_e5m2"},
    {DT_FLOAT8_E4M3FN, "float8_e4m3fn"},
    {DT_FLOAT8_E4M3FNUZ, "float8_e4m3fnuz"},
    {DT_FLOAT8_E4M3B11FNUZ, "float8_e4m3b11fnuz"},
    {DT_FLOAT8_E5M2FNUZ, "float8_e5m2fnuz"},
    {DT_INT4, "int4"},
    {DT_UINT4, "uint4"},
    {DT_INT2, "int2"},
    {DT_UINT2, "uint2"},
    {DT_FLOAT4_E2M1FN, "float4_e2m1fn"},
};

absl::optional<DType> TypeFromSpecName(absl::string_view name) {
  for (const SpecTypeName& t : kSpecTypeNames) {
    if (name == t.name) return t.type;
  }
  return absl::nullopt;
}

std::string SpecName(DType type) {
  for (const SpecTypeName& t : kSpecTypeNames) {
    if (type == t.type) return t.name;
  }
  if (type > 100 && type - 100 <= DT_FLOAT4_E2M1FN) {
    return absl::StrCat(SpecName(static_cast<DType>(type - 100)), "_ref");
  }
  return absl::StrCat("dtype(", static_cast<int>(type), ")");
}

// TensorFlow's named groups of dtypes, in TensorFlow's order (the order is
// visible in an OpDef's allowed_values).
const std::vector<DType>* TypeGroup(absl::string_view name) {
  static const std::vector<DType> kNumber = {
      DT_FLOAT,  DT_DOUBLE,     DT_INT32,  DT_UINT8,  DT_INT16,    DT_INT8,   DT_COMPLEX64,
      DT_INT64,  DT_QINT8,      DT_QUINT8, DT_QINT32, DT_BFLOAT16, DT_QINT16, DT_QUINT16,
      DT_UINT16, DT_COMPLEX128, DT_HALF,   DT_UINT32, DT_UINT64};
  static const std::vector<DType> kRealNumber = {DT_FLOAT,  DT_DOUBLE, DT_INT32,  DT_UINT8,
                                                 DT_INT16,  DT_INT8,   DT_INT64,  DT_BFLOAT16,
                                                 DT_UINT16, DT_HALF,   DT_UINT32, DT_UINT64};
  static const std::vector<DType> kQuantized = {DT_QINT8, DT_QUINT8, DT_QINT32, DT_QINT16,
                                                DT_QUINT16};
  if (name == "numbertype" || name == "numerictype") return &kNumber;
  if (name == "realnumbertype" || name == "realnumerictype") return &kRealNumber;
  if (name == "quantizedtype") return &kQuantized;
  return nullptr;
}

bool IsValueType(DType t) {
  return t != DT_INVALID && t < 100 && DTypeIsKnown(static_cast<int>(t));
}

bool IsAttrName(absl::string_view s) {
  if (s.empty() || !absl::ascii_isalpha(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

// TensorFlow requires argument names to be lower case.
bool IsArgName(absl::string_view s) {
  if (s.empty() || !absl::ascii_islower(s[0])) return false;
  for (char c : s) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_') return false;
  }
  return true;
}

std::string Quote(absl::string_view s) { return absl::StrCat("'", absl::CHexEscape(s), "'"); }

// Position of the first `target` character of `s` outside quotes and
// brackets, or npos. With `skip_comparison`, an '=' that is part of ">="
// does not count.
size_t FindTopLevel(absl::string_view s, char target, bool skip_comparison = false) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      --depth;
    } else if (c == target && depth == 0) {
      if (skip_comparison && i > 0 && s[i - 1] == '>') continue;
      return i;
    }
  }
  return absl::string_view::npos;
}

// Splits "a, b, c" at top-level commas. An empty body gives no items.
absl::StatusOr<std::vector<absl::string_view>> SplitItems(absl::string_view body) {
  std::vector<absl::string_view> items;
  body = absl::StripAsciiWhitespace(body);
  if (body.empty()) return items;
  while (true) {
    size_t comma = FindTopLevel(body, ',');
    absl::string_view item = absl::StripAsciiWhitespace(body.substr(0, comma));
    if (item.empty()) return absl::InvalidArgumentError("empty item in a list");
    items.push_back(item);
    if (comma == absl::string_view::npos) break;
    body = body.substr(comma + 1);
  }
  return items;
}

bool IsQuoted(absl::string_view s) {
  return s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front();
}

absl::StatusOr<std::string> Unquote(absl::string_view s) {
  if (!IsQuoted(s))
    return absl::InvalidArgumentError(absl::StrCat("expected a quoted string, got ", s));
  std::string out;
  std::string error;
  if (!absl::CUnescape(s.substr(1, s.size() - 2), &out, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("bad escape in ", s, ": ", error));
  }
  return out;
}

// Strips "<open> ... <close>" around `s`; false when `s` is not so wrapped.
bool StripWrapper(absl::string_view* s, absl::string_view open, char close) {
  if (!absl::StartsWith(*s, open) || s->empty() || s->back() != close) return false;
  *s = absl::StripAsciiWhitespace(s->substr(open.size(), s->size() - open.size() - 1));
  return true;
}

absl::StatusOr<DType> ParseTypeValue(absl::string_view text) {
  absl::optional<DType> t = TypeFromSpecName(text);
  if (!t.has_value()) {
    DType parsed;
    if (::tensorflow::DataType_Parse(std::string(text), &parsed)) t = parsed;
  }
  if (!t.has_value() || !IsValueType(*t)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a dtype"));
  }
  return *t;
}

// Keeps protobuf's parse errors for our status instead of its log.
class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat("column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

template <typename Message>
absl::Status ParseTextProto(absl::string_view text, Message* out) {
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), out)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse '", text, "' as a ",
                                                   out->GetDescriptor()->name(), " (",
                                                   errors.first(), ")"));
  }
  return absl::OkStatus();
}

// One value of attr kind `kind` ("int", "shape", ...) written in spec form.
absl::Status ParseScalar(absl::string_view kind, absl::string_view text, AttrValue* out) {
  if (kind == "string") {
    CKPT_ASSIGN_OR_RETURN(std::string s, Unquote(text));
    out->set_s(std::move(s));
  } else if (kind == "int") {
    int64_t v;
    if (!absl::SimpleAtoi(text, &v)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an int"));
    }
    out->set_i(v);
  } else if (kind == "float") {
    float v;
    if (!absl::SimpleAtof(text, &v)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a float"));
    }
    out->set_f(v);
  } else if (kind == "bool") {
    if (text != "true" && text != "false") {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a bool"));
    }
    out->set_b(text == "true");
  } else if (kind == "type") {
    CKPT_ASSIGN_OR_RETURN(DType t, ParseTypeValue(text));
    out->set_type(t);
  } else if (kind == "shape") {
    // "{ unknown_rank: true }" is a TensorShapeProto in text form; "[2, -1]"
    // lists the dimensions (-1 unknown).
    absl::string_view body = text;
    if (StripWrapper(&body, "{", '}')) {
      return ParseTextProto(body, out->mutable_shape());
    }
    if (!StripWrapper(&body, "[", ']')) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a shape"));
    }
    CKPT_ASSIGN_OR_RETURN(auto dims, SplitItems(body));
    auto* shape = out->mutable_shape();
    for (absl::string_view d : dims) {
      int64_t size;
      if (!absl::SimpleAtoi(d, &size) || size < -1) {
        return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a shape"));
      }
      shape->add_dim()->set_size(size);
    }
  } else if (kind == "tensor") {
    absl::string_view body = text;
    if (!StripWrapper(&body, "{", '}')) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a tensor in text form"));
    }
    return ParseTextProto(body, out->mutable_tensor());
  } else if (kind == "func") {
    absl::string_view body = text;
    if (StripWrapper(&body, "{", '}')) return ParseTextProto(body, out->mutable_func());
    CKPT_ASSIGN_OR_RETURN(std::string name, Unquote(text));
    out->mutable_func()->set_name(std::move(name));
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown attr kind '", kind, "'"));
  }
  return absl::OkStatus();
}

// Appends the single value held by `v` (as set by ParseScalar) to `list`.
void AppendToList(const AttrValue& v, AttrValue::ListValue* list) {
  switch (v.value_case()) {
    case AttrValue::kS:
      list->add_s(v.s());
      break;
    case AttrValue::kI:
      list->add_i(v.i());
      break;
    case AttrValue::kF:
      list->add_f(v.f());
      break;
    case AttrValue::kB:
      list->add_b(v.b());
      break;
    case AttrValue::kType:
      list->add_type(v.type());
      break;
    case AttrValue::kShape:
      *list->add_shape() = v.shape();
      break;
    case AttrValue::kTensor:
      *list->add_tensor() = v.tensor();
      break;
    case AttrValue::kFunc:
      *list->add_func() = v.func();
      break;
    default:
      break;
  }
}

// "list(int)" -> "int"; empty for scalar kinds.
absl::string_view ListElementKind(absl::string_view type) {
  if (absl::StartsWith(type, "list(") && absl::EndsWith(type, ")")) {
    return type.substr(5, type.size() - 6);
  }
  return {};
}

absl::Status ParseDefault(const OpDef::AttrDef& attr, absl::string_view text, AttrValue* out) {
  absl::string_view element = ListElementKind(attr.type());
  if (element.empty()) return ParseScalar(attr.type(), text, out);
  absl::string_view body = text;
  if (!StripWrapper(&body, "[", ']')) {
    return absl::InvalidArgumentError(
        absl::StrCat("a list default is written [a, b, ...], not ", text));
  }
  CKPT_ASSIGN_OR_RETURN(auto items, SplitItems(body));
  AttrValue::ListValue* list = out->mutable_list();  // present even when empty
  for (absl::string_view item : items) {
    AttrValue one;
    CKPT_RETURN_IF_ERROR(ParseScalar(element, item, &one));
    AppendToList(one, list);
  }
  return absl::OkStatus();
}

// The kind name of the value an AttrValue holds, for messages.
std::string ValueKind(const AttrValue& v) {
  switch (v.value_case()) {
    case AttrValue::kS:
      return "string";
    case AttrValue::kI:
      return "int";
    case AttrValue::kF:
      return "float";
    case AttrValue::kB:
      return "bool";
    case AttrValue::kType:
      return "type";
    case AttrValue::kShape:
      return "shape";
    case AttrValue::kTensor:
      return "tensor";
    case AttrValue::kFunc:
      return "func";
    case AttrValue::kPlaceholder:
      return "placeholder";
    case AttrValue::kList:
      return "list";
    case AttrValue::VALUE_NOT_SET:
      return "empty";
  }
  return "unknown";
}

// Number of entries of each kind in a list value; a well-formed list(T)
// value has entries of kind T only.
std::vector<std::pair<absl::string_view, int>> ListCounts(const AttrValue::ListValue& l) {
  return {{"string", l.s_size()},      {"int", l.i_size()},     {"float", l.f_size()},
          {"bool", l.b_size()},        {"type", l.type_size()}, {"shape", l.shape_size()},
          {"tensor", l.tensor_size()}, {"func", l.func_size()}};
}

std::string AllowedTypesText(const AttrValue& allowed) {
  std::vector<std::string> names;
  for (int t : allowed.list().type()) names.push_back(SpecName(static_cast<DType>(t)));
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

std::string AllowedStringsText(const AttrValue& allowed) {
  std::vector<std::string> names;
  for (const std::string& s : allowed.list().s()) names.push_back(Quote(s));
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

bool TypeAllowed(const OpDef::AttrDef& def, int t) {
  if (!def.has_allowed_values()) return true;
  for (int a : def.allowed_values().list().type()) {
    if (a == t) return true;
  }
  return false;
}

bool StringAllowed(const OpDef::AttrDef& def, const std::string& s) {
  if (!def.has_allowed_values()) return true;
  for (const std::string& a : def.allowed_values().list().s()) {
    if (a == s) return true;
  }
  return false;
}

absl::Status CheckType(const OpDef::AttrDef& def, int t, absl::string_view what) {
  if (!IsValueType(static_cast<DType>(t))) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", SpecName(static_cast<DType>(t)), ", not a value dtype"));
  }
  if (!TypeAllowed(def, t)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", SpecName(static_cast<DType>(t)),
                                                   ", not one of ",
                                                   AllowedTypesText(def.allowed_values())));
  }
  return absl::OkStatus();
}

absl::Status CheckString(const OpDef::AttrDef& def, const std::string& s, absl::string_view what) {
  if (!StringAllowed(def, s)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is ", Quote(s), ", not one of ",
                                                   AllowedStringsText(def.allowed_values())));
  }
  return absl::OkStatus();
}

// Whether `value` is a legal value of the attr `def`: the declared kind,
// an allowed value, at least the minimum. The message names the attr but not
// the node or op; callers add those.
absl::Status CheckAttrValue(const OpDef::AttrDef& def, const AttrValue& value) {
  const std::string attr = absl::StrCat("attr ", Quote(def.name()));
  absl::string_view element = ListElementKind(def.type());
  if (element.empty()) {
    if (ValueKind(value) != def.type()) {
      return absl::InvalidArgumentError(absl::StrCat(attr, " holds a value of kind ",
                                                     ValueKind(value), ", but the op declares it ",
                                                     def.type()));
    }
    if (def.type() == "type") CKPT_RETURN_IF_ERROR(CheckType(def, value.type(), attr));
    if (def.type() == "string") CKPT_RETURN_IF_ERROR(CheckString(def, value.s(), attr));
    if (def.type() == "int" && def.has_minimum() && value.i() < def.minimum()) {
      return absl::InvalidArgumentError(
          absl::StrCat(attr, " is ", value.i(), ", below its minimum ", def.minimum()));
    }
    return absl::OkStatus();
  }
  if (value.value_case() != AttrValue::kList) {
    return absl::InvalidArgumentError(absl::StrCat(attr, " holds a value of kind ",
                                                   ValueKind(value), ", but the op declares it ",
                                                   def.type()));
  }
  const AttrValue::ListValue& list = value.list();
  int size = 0;
  for (const auto& [kind, count] : ListCounts(list)) {
    if (kind == element) {
      size = count;
    } else if (count > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(attr, " is a list of ", kind, ", but the op declares it ", def.type()));
    }
  }
  for (int i = 0; i < list.type_size(); ++i) {
    CKPT_RETURN_IF_ERROR(CheckType(def, list.type(i), absl::StrCat(attr, " element ", i)));
  }
  for (int i = 0; i < list.s_size(); ++i) {
    CKPT_RETURN_IF_ERROR(CheckString(def, list.s(i), absl::StrCat(attr, " element ", i)));
  }
  if (def.has_minimum() && size < def.minimum()) {
    return absl::InvalidArgumentError(
        absl::StrCat(attr, " has ", size, " element(s), fewer than its minimum ", def.minimum()));
  }
  return absl::OkStatus();
}

const OpDef::AttrDef* FindAttrDef(const OpDef& op, absl::string_view name) {
  for (const auto& a : op.attr()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// The attr kinds a spec may declare (the element kind, for lists).
bool IsAttrKind(absl::string_view k) {
  return k == "string" || k == "int" || k == "float" || k == "bool" || k == "type" ||
         k == "shape" || k == "tensor" || k == "func";
}

// Parses "<kind>", "{float, int32}", "{'A', 'B'}" or a type group into the
// kind and, when restricted, the allowed values.
absl::Status ParseKind(absl::string_view text, std::string* kind, AttrValue* allowed) {
  if (const std::vector<DType>* group = TypeGroup(text)) {
    *kind = "type";
    for (DType t : *group) allowed->mutable_list()->add_type(t);
    return absl::OkStatus();
  }
  absl::string_view body = text;
  if (!StripWrapper(&body, "{", '}')) {
    if (!IsAttrKind(text)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown attr type '", text, "'"));
    }
    *kind = std::string(text);
    return absl::OkStatus();
  }
  CKPT_ASSIGN_OR_RETURN(auto items, SplitItems(body));
  if (items.empty()) return absl::InvalidArgumentError("an empty set of allowed values");
  const bool strings = IsQuoted(items[0]);
  *kind = strings ? "string" : "type";
  auto* list = allowed->mutable_list();
  for (absl::string_view item : items) {
    if (IsQuoted(item) != strings) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowed values mix strings and types: ", text));
    }
    if (strings) {
      CKPT_ASSIGN_OR_RETURN(std::string s, Unquote(item));
      for (const std::string& seen : list->s()) {
        if (seen == s) return absl::InvalidArgumentError(absl::StrCat(item, " is listed twice"));
      }
      list->add_s(std::move(s));
      continue;
    }
    std::vector<DType> types;
    if (const std::vector<DType>* group = TypeGroup(item)) {
      types = *group;
    } else {
      absl::optional<DType> t = TypeFromSpecName(item);
      if (!t.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("'", item, "' is not a dtype"));
      }
      types.push_back(*t);
    }
    for (DType t : types) {
      for (int seen : list->type()) {
        if (seen == t) {
          return absl::InvalidArgumentError(absl::StrCat(SpecName(t), " is listed twice"));
        }
      }
      list->add_type(t);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseAttrSpec(absl::string_view spec, OpDef::AttrDef* attr) {
  const size_t colon = spec.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError("expected 'name: type'");
  }
  absl::string_view name = absl::StripAsciiWhitespace(spec.substr(0, colon));
  if (!IsAttrName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not an attr name"));
  }
  attr->set_name(std::string(name));
  absl::string_view rest = spec.substr(colon + 1);
  absl::string_view default_text;
  bool has_default = false;
  const size_t eq = FindTopLevel(rest, '=', /*skip_comparison=*/true);
  if (eq != absl::string_view::npos) {
    has_default = true;
    default_text = absl::StripAsciiWhitespace(rest.substr(eq + 1));
    rest = rest.substr(0, eq);
    if (default_text.empty()) return absl::InvalidArgumentError("'=' without a default");
  }
  rest = absl::StripAsciiWhitespace(rest);
  const size_t ge = rest.find(">=");
  if (ge != absl::string_view::npos && FindTopLevel(rest, '>') == ge) {
    absl::string_view min_text = absl::StripAsciiWhitespace(rest.substr(ge + 2));
    int64_t minimum;
    if (!absl::SimpleAtoi(min_text, &minimum)) {
      return absl::InvalidArgumentError(absl::StrCat("'", min_text, "' is not an int minimum"));
    }
    attr->set_has_minimum(true);
    attr->set_minimum(minimum);
    rest = absl::StripAsciiWhitespace(rest.substr(0, ge));
  }
  if (rest.empty()) return absl::InvalidArgumentError("missing the attr type");
  absl::string_view kind_text = rest;
  const bool is_list = StripWrapper(&kind_text, "list(", ')');
  std::string kind;
  AttrValue allowed;
  CKPT_RETURN_IF_ERROR(ParseKind(kind_text, &kind, &allowed));
  attr->set_type(is_list ? absl::StrCat("list(", kind, ")") : kind);
  if (allowed.has_list()) *attr->mutable_allowed_values() = std::move(allowed);
  if (attr->has_minimum()) {
    if (!is_list && kind != "int") {
      return absl::InvalidArgumentError(
          absl::StrCat("a minimum applies to int and list attrs, not ", attr->type()));
    }
    if (is_list && attr->minimum() < 0) {
      return absl::InvalidArgumentError("a list cannot have a negative minimum length");
    }
  }
  if (has_default) {
    CKPT_RETURN_IF_ERROR(ParseDefault(*attr, default_text, attr->mutable_default_value()));
    absl::Status s = CheckAttrValue(*attr, attr->default_value());
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("the default is not legal: ", s.message()));
    }
  }
  return absl::OkStatus();
}

// Parses "name: <type>" for an input or output; the attrs are already
// parsed, since "T" means a type attr or a list(type) attr depending on how T
// is declared.
absl::Status ParseArgSpec(absl::string_view spec, const OpDef& op, OpDef::ArgDef* arg) {
  const size_t colon = spec.find(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError("expected 'name: type'");
  }
  absl::string_view name = absl::StripAsciiWhitespace(spec.substr(0, colon));
  if (!IsArgName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not an argument name (lower case, digits, '_')"));
  }
  arg->set_name(std::string(name));
  absl::string_view type = absl::StripAsciiWhitespace(spec.substr(colon + 1));
  if (StripWrapper(&type, "Ref(", ')')) arg->set_is_ref(true);
  const size_t star = type.find('*');
  if (star != absl::string_view::npos) {
    absl::string_view number = absl::StripAsciiWhitespace(type.substr(0, star));
    type = absl::StripAsciiWhitespace(type.substr(star + 1));
    const OpDef::AttrDef* n = FindAttrDef(op, number);
    if (n == nullptr || n->type() != "int") {
      return absl::InvalidArgumentError(
          absl::StrCat("'", number, "' must be an int attr of the op to count the argument"));
    }
    arg->set_number_attr(std::string(number));
  }
  if (type.empty()) return absl::InvalidArgumentError("missing the argument type");
  if (absl::optional<DType> t = TypeFromSpecName(type)) {
    arg->set_type(*t);
    return absl::OkStatus();
  }
  const OpDef::AttrDef* a = FindAttrDef(op, type);
  if (a == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", type, "' is neither a dtype nor an attr of the op"));
  }
  if (a->type() == "type") {
    arg->set_type_attr(std::string(type));
  } else if (a->type() == "list(type)" && arg->number_attr().empty()) {
    arg->set_type_list_attr(std::string(type));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("attr '", type, "' is ", a->type(), ", not a type an argument can take"));
  }
  return absl::OkStatus();
}

// Structural checks every registered OpDef passes, so that ValidateNode can
// rely on them: unique names, and argument references to attrs of the
// right kind.
absl::Status CheckOpDef(const OpDef& op) {
  if (op.name().empty()) return absl::InvalidArgumentError("an OpDef needs a name");
  const std::string where = absl::StrCat("OpDef ", op.name(), ": ");
  for (int i = 0; i < op.attr_size(); ++i) {
    for (int j = 0; j < i; ++j) {
      if (op.attr(i).name() == op.attr(j).name()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "attr '", op.attr(i).name(), "' is declared twice"));
      }
    }
  }
  for (const auto* args : {&op.input_arg(), &op.output_arg()}) {
    for (int i = 0; i < args->size(); ++i) {
      const OpDef::ArgDef& arg = (*args)[i];
      for (int j = 0; j < i; ++j) {
        if ((*args)[j].name() == arg.name()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, "argument '", arg.name(), "' is declared twice"));
        }
      }
      const int kinds =
          (arg.type() != DT_INVALID) + !arg.type_attr().empty() + !arg.type_list_attr().empty();
      if (kinds != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "argument '", arg.name(),
                         "' needs exactly one of a dtype, a type attr or a "
                         "list(type) attr"));
      }
      const std::pair<const std::string*, const char*> refs[] = {
          {&arg.type_attr(), "type"},
          {&arg.number_attr(), "int"},
          {&arg.type_list_attr(), "list(type)"}};
      for (const auto& [ref, kind] : refs) {
        if (ref->empty()) continue;
        const OpDef::AttrDef* a = FindAttrDef(op, *ref);
        if (a == nullptr || a->type() != kind) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, "argument '", arg.name(), "' refers to attr '", *ref,
                           "', which is not a ", kind, " attr of the op"));
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string NodePrefix(const NodeDef& node, const OpDef& op) {
  return absl::StrCat("node ", Quote(node.name()), " (op ", op.name(), "): ");
}

// The dtypes of one argument of `node`; attrs already checked.
absl::Status AppendArgTypes(const OpDef::ArgDef& arg, const NodeDef& node, const OpDef& op,
                            std::vector<DType>* types, std::vector<bool>* is_ref) {
  auto attr_of = [&](const std::string& name) -> const AttrValue* {
    auto it = node.attr().find(name);
    return it == node.attr().end() ? nullptr : &it->second;
  };
  auto missing = [&](const std::string& name) {
    return absl::InvalidArgumentError(absl::StrCat(NodePrefix(node, op), "argument '", arg.name(),
                                                   "' needs attr '", name,
                                                   "', which the node lacks"));
  };
  std::vector<DType> one_arg;
  if (!arg.type_list_attr().empty()) {
    const AttrValue* v = attr_of(arg.type_list_attr());
    if (v == nullptr) return missing(arg.type_list_attr());
    for (int t : v->list().type()) one_arg.push_back(static_cast<DType>(t));
  } else {
    DType t = arg.type();
    if (!arg.type_attr().empty()) {
      const AttrValue* v = attr_of(arg.type_attr());
      if (v == nullptr) return missing(arg.type_attr());
      t = v->type();
    }
    int64_t count = 1;
    if (!arg.number_attr().empty()) {
      const AttrValue* v = attr_of(arg.number_attr());
      if (v == nullptr) return missing(arg.number_attr());
      count = v->i();
      if (count < 0 || count > kMaxNodeArity) {
        return absl::InvalidArgumentError(
            absl::StrCat(NodePrefix(node, op), "attr '", arg.number_attr(), "' is ", count,
                         ", outside [0, ", kMaxNodeArity, "] for argument '", arg.name(), "'"));
      }
    }
    one_arg.assign(static_cast<size_t>(count), t);
  }
  if (types->size() + one_arg.size() > static_cast<size_t>(kMaxNodeArity)) {
    return absl::InvalidArgumentError(
        absl::StrCat(NodePrefix(node, op), "more than ", kMaxNodeArity, " arguments"));
  }
  types->insert(types->end(), one_arg.begin(), one_arg.end());
  is_ref->insert(is_ref->end(), one_arg.size(), arg.is_ref());
  return absl::OkStatus();
}

std::string ArgList(const google::protobuf::RepeatedPtrField<OpDef::ArgDef>& args) {
  std::vector<std::string> names;
  for (const auto& a : args) names.push_back(a.name());
  return absl::StrJoin(names, ", ");
}

}  // namespace

// ---- OpDefBuilder ----------------------------------------------------------

OpDefBuilder::OpDefBuilder(std::string op_name) : name_(std::move(op_name)) {}

OpDefBuilder& OpDefBuilder::Input(std::string spec) {
  inputs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::Output(std::string spec) {
  outputs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::Attr(std::string spec) {
  attrs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsStateful() {
  stateful_ = true;
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsCommutative() {
  commutative_ = true;
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsAggregate() {
  aggregate_ = true;
  return *this;
}
OpDefBuilder& OpDefBuilder::SetAllowsUninitializedInput() {
  allows_uninitialized_input_ = true;
  return *this;
}
OpDefBuilder& OpDefBuilder::Deprecated(int version, std::string explanation) {
  deprecated_version_ = version;
  deprecated_explanation_ = std::move(explanation);
  return *this;
}

absl::StatusOr<OpDef> OpDefBuilder::Build() const {
  OpDef op;
  if (!IsAttrName(name_)) {
    return absl::InvalidArgumentError(absl::StrCat("'", name_, "' is not an op name"));
  }
  op.set_name(name_);
  auto spec_error = [&](absl::string_view what, const std::string& spec, const absl::Status& s) {
    return absl::InvalidArgumentError(
        absl::StrCat("OpDef ", name_, ": ", what, " spec '", spec, "': ", s.message()));
  };
  for (const std::string& spec : attrs_) {
    absl::Status s = ParseAttrSpec(spec, op.add_attr());
    if (!s.ok()) return spec_error("attr", spec, s);
  }
  for (const std::string& spec : inputs_) {
    absl::Status s = ParseArgSpec(spec, op, op.add_input_arg());
    if (!s.ok()) return spec_error("input", spec, s);
  }
  for (const std::string& spec : outputs_) {
    absl::Status s = ParseArgSpec(spec, op, op.add_output_arg());
    if (!s.ok()) return spec_error("output", spec, s);
  }
  // As in TensorFlow, an int attr that counts arguments is at least 0.
  for (const auto* args : {&op.input_arg(), &op.output_arg()}) {
    for (const auto& arg : *args) {
      if (arg.number_attr().empty()) continue;
      for (auto& a : *op.mutable_attr()) {
        if (a.name() == arg.number_attr() && !a.has_minimum()) {
          a.set_has_minimum(true);
          a.set_minimum(0);
        }
      }
    }
  }
  op.set_is_stateful(stateful_);
  op.set_is_commutative(commutative_);
  op.set_is_aggregate(aggregate_);
  op.set_allows_uninitialized_input(allows_uninitialized_input_);
  if (deprecated_version_ != 0) {
    op.mutable_deprecation()->set_version(deprecated_version_);
    op.mutable_deprecation()->set_explanation(deprecated_explanation_);
  }
  CKPT_RETURN_IF_ERROR(CheckOpDef(op));
  return op;
}

// ---- OpRegistry ------------------------------------------------------------

const OpRegistry& OpRegistry::Global() {
  static const OpRegistry* const registry = [] {
    auto* r = new OpRegistry();
    runtime::RegisterArrayOps(r);
    runtime::RegisterMathOps(r);
    runtime::RegisterNnOps(r);
    runtime::RegisterStateOps(r);
    runtime::RegisterRandomOps(r);
    runtime::RegisterTrainingOps(r);
    runtime::RegisterIoOps(r);
    runtime::RegisterMiscOps(r);
    return r;
  }();
  return *registry;
}

absl::Status OpRegistry::Register(const OpDefBuilder& builder) {
  CKPT_ASSIGN_OR_RETURN(OpDef op, builder.Build());
  return Register(std::move(op));
}

absl::Status OpRegistry::Register(OpDef op_def) {
  CKPT_RETURN_IF_ERROR(CheckOpDef(op_def));
  if (ops_.count(op_def.name()) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("op '", op_def.name(), "' is already registered"));
  }
  std::string name = op_def.name();
  ops_.emplace(std::move(name), std::move(op_def));
  return absl::OkStatus();
}

const OpDef* OpRegistry::Find(absl::string_view op) const {
  auto it = ops_.find(op);
  return it == ops_.end() ? nullptr : &it->second;
}

absl::StatusOr<const OpDef*> OpRegistry::Lookup(absl::string_view op,
                                                absl::string_view node_name) const {
  if (const OpDef* def = Find(op)) return def;
  if (node_name.empty()) return absl::NotFoundError(absl::StrCat("unknown op ", Quote(op)));
  return absl::NotFoundError(absl::StrCat("unknown op ", Quote(op), " in node ", Quote(node_name)));
}

std::vector<std::string> OpRegistry::ListOps() const {
  std::vector<std::string> names;
  names.reserve(ops_.size());
  for (const auto& [name, op] : ops_) names.push_back(name);
  return names;
}

namespace runtime {

// A built-in spec that does not build is a bug in ckpt itself, found by the
// first test run; there is no caller to hand the error to.
void DefineBuiltinOp(OpRegistry* registry, const OpDefBuilder& builder) {
  absl::Status s = registry->Register(builder);
  if (!s.ok()) {
    std::fprintf(stderr, "ckpt: built-in OpDef rejected: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
}

}  // namespace runtime

// ---- nodes -----------------------------------------------------------------

void AddDefaultAttrs(const OpDef& op_def, NodeDef* node) {
  auto* attrs = node->mutable_attr();
  for (const auto& a : op_def.attr()) {
    if (a.has_default_value() && attrs->find(a.name()) == attrs->end()) {
      (*attrs)[a.name()] = a.default_value();
    }
  }
}

absl::StatusOr<NodeSignature> ValidateNode(const OpDef& op_def, const NodeDef& node) {
  const std::string prefix = NodePrefix(node, op_def);
  if (node.op() != op_def.name()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "the node's op is ", Quote(node.op())));
  }
  for (const auto& def : op_def.attr()) {
    auto it = node.attr().find(def.name());
    if (it == node.attr().end()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix, "missing attr ", Quote(def.name())));
    }
    absl::Status s = CheckAttrValue(def, it->second);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(prefix, s.message()));
  }
  for (const auto& [name, value] : node.attr()) {
    if (absl::StartsWith(name, "_")) continue;  // internal attrs, as TensorFlow allows
    if (FindAttrDef(op_def, name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "attr ", Quote(name), " is not an attr of ", op_def.name()));
    }
  }

  NodeSignature sig;
  for (const auto& arg : op_def.input_arg()) {
    CKPT_RETURN_IF_ERROR(AppendArgTypes(arg, node, op_def, &sig.input_types, &sig.input_is_ref));
  }
  for (const auto& arg : op_def.output_arg()) {
    CKPT_RETURN_IF_ERROR(AppendArgTypes(arg, node, op_def, &sig.output_types, &sig.output_is_ref));
  }

  size_t data_inputs = 0;
  bool seen_control = false;
  for (const std::string& in : node.input()) {
    if (absl::StartsWith(in, "^")) {
      seen_control = true;
      continue;
    }
    if (seen_control) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "data input ", Quote(in), " comes after a control input"));
    }
    ++data_inputs;
  }
  if (data_inputs != sig.input_types.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "has ", data_inputs, " data input(s), but the op's arguments (",
                     ArgList(op_def.input_arg()), ") take ", sig.input_types.size()));
  }
  return sig;
}

}  // namespace ckpt
