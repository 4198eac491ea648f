#include "common/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "ckpt/env.h"
#include "ckpt/status_macros.h"
#include "common/npy.h"
#include "common/progress.h"

namespace ckpt {
namespace tools {
namespace {

// Format constants of safetensors.
constexpr size_t kLengthBytes = 8;
// The reference implementation refuses headers above this size.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Three levels are used; __metadata__ values are strings.
constexpr int kMaxHeaderDepth = 4;
// The header is padded with spaces to a multiple of this, so that every
// tensor of a well-laid-out file is aligned for its element type.
constexpr size_t kHeaderAlign = 8;
constexpr char kMetadataKey[] = "__metadata__";

constexpr bool kHostLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

struct NamedDType {
  DType dtype;
  const char* name;
};
// Every safetensors dtype with a TensorFlow equivalent.
constexpr NamedDType kDTypes[] = {
    {DT_BOOL, "BOOL"},        {DT_UINT8, "U8"},          {DT_INT8, "I8"},
    {DT_FLOAT8_E5M2, "F8_E5M2"}, {DT_FLOAT8_E4M3FN, "F8_E4M3"}, {DT_INT16, "I16"},
    {DT_UINT16, "U16"},       {DT_HALF, "F16"},          {DT_BFLOAT16, "BF16"},
    {DT_INT32, "I32"},        {DT_UINT32, "U32"},        {DT_FLOAT, "F32"},
    {DT_COMPLEX64, "C64"},    {DT_DOUBLE, "F64"},        {DT_INT64, "I64"},
    {DT_UINT64, "U64"},
};
// Safetensors dtypes TensorFlow has no type for.
constexpr const char* kForeignDTypes[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0"};

// Converts between the file's little-endian bytes and the host's order.
void ToOrFromLittleEndian(Tensor* t) {
  if (kHostLittleEndian) return;
  const size_t unit = DTypeSwapUnit(t->dtype());
  if (unit <= 1) return;
  char* data = t->mutable_raw_data();
  for (size_t i = 0; i + unit <= t->TotalBytes(); i += unit) std::reverse(data + i, data + i + unit);
}

struct Entry {
  std::string name;
  DType dtype = DT_INVALID;
  TensorShape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class SafetensorsSource : public TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<TensorSource>> Open(const std::string& path) {
    Env* env = Env::Default();
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ReadOnlyFile> file, env->NewReadOnlyFile(path));
    std::unique_ptr<SafetensorsSource> source(new SafetensorsSource(path, std::move(file)));
    CKPT_RETURN_IF_ERROR(source->ParseHeader());
    return std::unique_ptr<TensorSource>(std::move(source));
  }

  const std::string& path() const override { return path_; }
  std::map<std::string, std::string> metadata() const override { return metadata_; }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }

  absl::StatusOr<Tensor> Read(size_t i) const override {
    if (i >= entries_.size()) return absl::OutOfRangeError(absl::StrCat(path_, ": no tensor ", i));
    const Entry& e = entries_[i];
    CKPT_ASSIGN_OR_RETURN(Tensor t, Tensor::AllocateUninitialized(e.dtype, e.shape));
    if (t.TotalBytes() > 0) {
      absl::Status s = file_->ReadCopy(data_start_ + e.begin, t.TotalBytes(), t.mutable_raw_data());
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat(path_, ": tensor '", e.name, "': ", s.message()));
      }
    }
    ToOrFromLittleEndian(&t);
    if (e.dtype == DT_BOOL) {
      char* data = t.mutable_raw_data();
      for (size_t k = 0; k < t.TotalBytes(); ++k) data[k] = data[k] != 0 ? 1 : 0;
    }
    return t;
  }

 private:
  SafetensorsSource(std::string path, std::unique_ptr<ReadOnlyFile> file)
      : path_(std::move(path)), file_(std::move(file)) {}

  absl::Status Bad(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", what));
  }
  absl::Status BadTensor(absl::string_view name, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": tensor '", name, "': ", what));
  }

  absl::Status ParseHeader() {
    const uint64_t size = file_->size();
    if (size < kLengthBytes) {
      return Bad(absl::StrCat("not a safetensors file (", size,
                              " bytes, shorter than the 8-byte header length)"));
    }
    char len_bytes[kLengthBytes];
    CKPT_RETURN_IF_ERROR(file_->ReadCopy(0, kLengthBytes, len_bytes));
    uint64_t header_len = 0;
    for (size_t i = 0; i < kLengthBytes; ++i) {
      header_len |= static_cast<uint64_t>(static_cast<unsigned char>(len_bytes[i])) << (8 * i);
    }
    if (header_len > size - kLengthBytes) {
      return Bad(absl::StrCat("header length ", header_len, " runs past the end of the file (",
                              size, " bytes)"));
    }
    if (header_len > kMaxHeaderBytes) {
      return Bad(absl::StrCat("header length ", header_len, " exceeds the limit of ",
                              kMaxHeaderBytes, " bytes"));
    }
    std::string header(header_len, '\0');
    CKPT_RETURN_IF_ERROR(file_->ReadCopy(kLengthBytes, header_len, header.data()));
    if (!IsValidUtf8(header)) return Bad("header is not UTF-8 text");
    // A header nests three deep (object, tensor entry, shape or offsets
    // list). Deeper nesting is refused before parsing: a 100 MB header of
    // brackets would otherwise become tens of millions of nested values.
    int depth = 0;
    bool in_string = false, escaped = false;
    for (const char ch : header) {
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (ch == '\\') {
          escaped = true;
        } else if (ch == '"') {
          in_string = false;
        }
      } else if (ch == '"') {
        in_string = true;
      } else if (ch == '[' || ch == '{') {
        if (++depth > kMaxHeaderDepth) {
          return Bad(absl::StrCat("header nests deeper than ", kMaxHeaderDepth, " levels"));
        }
      } else if (ch == ']' || ch == '}') {
        --depth;
      }
    }
    data_start_ = kLengthBytes + header_len;
    const uint64_t data_size = size - data_start_;

    // nlohmann keeps the last of repeated keys; a repeated tensor name is
    // an error here, so the parser reports top-level keys as it meets them.
    std::set<std::string> seen;
    std::string repeated;
    auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
      if (depth == 1 && event == nlohmann::json::parse_event_t::key && value.is_string()) {
        const std::string& key = value.get_ref<const std::string&>();
        if (!seen.insert(key).second && repeated.empty()) repeated = key;
      }
      return true;
    };
    nlohmann::json doc = nlohmann::json::parse(header, on_event, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Bad("header is not valid JSON");
    if (!doc.is_object()) return Bad("header is not a JSON object");
    if (!repeated.empty()) return BadTensor(repeated, "appears twice in the header");

    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& name = it.key();
      const nlohmann::json& v = it.value();
      if (name == kMetadataKey) {
        if (!v.is_object()) return Bad("__metadata__ is not an object");
        for (auto m = v.begin(); m != v.end(); ++m) {
          if (!m.value().is_string()) {
            return Bad(absl::StrCat("__metadata__ value of '", m.key(), "' is not a string"));
          }
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      CKPT_ASSIGN_OR_RETURN(Entry e, ParseEntry(name, v));
      entries_.push_back(std::move(e));
    }
    metadata_["source_format"] = "safetensors";

    // The tensors must tile [0, data_size) in offset order.
    std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries_) {
      if (e.end > data_size) {
        return BadTensor(e.name, absl::StrCat("data_offsets [", e.begin, ", ", e.end,
                                              ") run past the data buffer (", data_size,
                                              " bytes)"));
      }
      if (e.begin < covered) {
        return BadTensor(e.name, absl::StrCat("data_offsets [", e.begin, ", ", e.end,
                                              ") overlap tensor '", previous->name, "' [",
                                              previous->begin, ", ", previous->end, ")"));
      }
      if (e.begin > covered) {
        return BadTensor(e.name, absl::StrCat("data bytes [", covered, ", ", e.begin,
                                              ") before it belong to no tensor"));
      }
      covered = e.end;
      previous = &e;
    }
    if (covered != data_size) {
      return Bad(absl::StrCat("data buffer has ", data_size - covered,
                              " bytes after the last tensor (", data_size, " bytes, tensors cover ",
                              covered, ")"));
    }
    for (const Entry& e : entries_) {
      tensors_.push_back({e.name, e.dtype, e.shape, e.end - e.begin});
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Entry> ParseEntry(const std::string& name, const nlohmann::json& v) const {
    if (!v.is_object()) return BadTensor(name, "its header entry is not an object");
    auto dtype_it = v.find("dtype");
    auto shape_it = v.find("shape");
    auto offsets_it = v.find("data_offsets");
    if (dtype_it == v.end() || shape_it == v.end() || offsets_it == v.end()) {
      return BadTensor(name, "needs \"dtype\", \"shape\" and \"data_offsets\"");
    }
    if (!dtype_it->is_string()) return BadTensor(name, "\"dtype\" is not a string");
    const std::string dtype_name = dtype_it->get<std::string>();
    Entry e;
    e.name = name;
    for (const NamedDType& d : kDTypes) {
      if (dtype_name == d.name) e.dtype = d.dtype;
    }
    if (e.dtype == DT_INVALID) {
      for (const char* foreign : kForeignDTypes) {
        if (dtype_name == foreign) {
          return absl::UnimplementedError(absl::StrCat(
              path_, ": tensor '", name, "': dtype ", dtype_name, " has no TensorFlow type"));
        }
      }
      return BadTensor(name, absl::StrCat("unknown dtype \"", dtype_name, "\""));
    }
    if (!shape_it->is_array()) return BadTensor(name, "\"shape\" is not an array");
    std::vector<int64_t> dims;
    for (const nlohmann::json& d : *shape_it) {
      if (!d.is_number_unsigned() ||
          d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return BadTensor(name, absl::StrCat("shape ", shape_it->dump(),
                                            " is not a list of non-negative integers"));
      }
      dims.push_back(static_cast<int64_t>(d.get<uint64_t>()));
    }
    absl::StatusOr<TensorShape> shape = TensorShape::FromDims(dims);
    if (!shape.ok()) {
      return BadTensor(name, absl::StrCat("shape ", shape_it->dump(), " is not valid: ",
                                          shape.status().message()));
    }
    e.shape = *shape;
    if (!offsets_it->is_array() || offsets_it->size() != 2 || !(*offsets_it)[0].is_number_unsigned() ||
        !(*offsets_it)[1].is_number_unsigned()) {
      return BadTensor(name, "\"data_offsets\" is not [begin, end] of non-negative integers");
    }
    e.begin = (*offsets_it)[0].get<uint64_t>();
    e.end = (*offsets_it)[1].get<uint64_t>();
    if (e.end < e.begin) {
      return BadTensor(name, absl::StrCat("data_offsets [", e.begin, ", ", e.end, ") end before they begin"));
    }
    const uint64_t elements = static_cast<uint64_t>(e.shape.num_elements());
    const uint64_t itemsize = DTypeSize(e.dtype);
    if (elements > std::numeric_limits<uint64_t>::max() / itemsize ||
        elements * itemsize != e.end - e.begin) {
      return BadTensor(name, absl::StrCat(dtype_name, e.shape.DebugString(), " needs ",
                                          elements > std::numeric_limits<uint64_t>::max() / itemsize
                                              ? std::string("more than 2^64")
                                              : absl::StrCat(elements * itemsize),
                                          " bytes but data_offsets [", e.begin, ", ", e.end,
                                          ") hold ", e.end - e.begin));
    }
    return e;
  }

  std::string path_;
  std::unique_ptr<ReadOnlyFile> file_;
  uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<Entry> entries_;  // in offset order
  std::vector<SourceTensor> tensors_;
};

absl::Status WriteAll(const TensorSource& source, const std::vector<size_t>& order,
                      const std::string& header, WritableFile* file, Progress* progress,
                      uint64_t* data_bytes) {
  char len_bytes[kLengthBytes];
  for (size_t i = 0; i < kLengthBytes; ++i) {
    len_bytes[i] = static_cast<char>((static_cast<uint64_t>(header.size()) >> (8 * i)) & 0xff);
  }
  CKPT_RETURN_IF_ERROR(file->Append(absl::string_view(len_bytes, kLengthBytes)));
  CKPT_RETURN_IF_ERROR(file->Append(header));
  int64_t done = 0;
  for (size_t i : order) {
    const SourceTensor& info = source.tensors()[i];
    CKPT_ASSIGN_OR_RETURN(Tensor t, source.Read(i));
    if (t.dtype() != info.dtype || t.shape() != info.shape) {
      return absl::DataLossError(absl::StrCat(source.path(), ": tensor '", info.name,
                                              "' read as ", t.DebugString(), " but was listed as ",
                                              DTypeName(info.dtype), info.shape.DebugString()));
    }
    if (!kHostLittleEndian) {
      t = t.Clone();
      ToOrFromLittleEndian(&t);
    }
    CKPT_RETURN_IF_ERROR(file->Append(t.bytes()));
    *data_bytes += t.TotalBytes();
    if (progress != nullptr) progress->Update(++done, *data_bytes);
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view SafetensorsDTypeName(DType dtype) {
  for (const NamedDType& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return {};
}

absl::StatusOr<std::unique_ptr<TensorSource>> OpenSafetensorsSource(const std::string& path) {
  return SafetensorsSource::Open(path);
}

absl::StatusOr<ConvertStats> WriteSafetensors(const TensorSource& source,
                                              const std::string& path,
                                              const SinkOptions& options) {
  ConvertStats stats;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  for (const auto& [key, value] : source.metadata()) {
    // JSON text must be UTF-8; a value that is not is left out rather than
    // mangled.
    if (IsValidUtf8(key) && IsValidUtf8(value)) metadata[key] = value;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::vector<size_t> order;
  uint64_t offset = 0;
  for (size_t i = 0; i < source.tensors().size(); ++i) {
    const SourceTensor& info = source.tensors()[i];
    const std::string what = absl::StrCat(source.path(), ": tensor '", info.name, "'");
    const absl::string_view dtype = SafetensorsDTypeName(info.dtype);
    if (dtype.empty()) {
      CKPT_RETURN_IF_ERROR(SkipOrRefuse(
          options, absl::StrCat(what, ": safetensors has no type for ", DTypeName(info.dtype)),
          &stats));
      continue;
    }
    if (!IsValidUtf8(info.name)) {
      CKPT_RETURN_IF_ERROR(SkipOrRefuse(
          options, absl::StrCat(what, ": the name is not UTF-8, which the JSON header needs"),
          &stats));
      continue;
    }
    if (info.name == kMetadataKey) {
      CKPT_RETURN_IF_ERROR(SkipOrRefuse(
          options, absl::StrCat(what, ": the name is reserved for safetensors' metadata"), &stats));
      continue;
    }
    order.push_back(i);
  }
  // Larger elements first (the reference writer's order): with the header
  // padded to 8 bytes, every tensor then starts aligned to its element size.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return DTypeSize(source.tensors()[a].dtype) > DTypeSize(source.tensors()[b].dtype);
  });
  for (size_t i : order) {
    const SourceTensor& info = source.tensors()[i];
    const uint64_t bytes = static_cast<uint64_t>(info.shape.num_elements()) * DTypeSize(info.dtype);
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = std::string(SafetensorsDTypeName(info.dtype));
    entry["shape"] = info.shape.dims();
    entry["data_offsets"] = {offset, offset + bytes};
    header[info.name] = std::move(entry);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((kHeaderAlign - text.size() % kHeaderAlign) % kHeaderAlign, ' ');

  Env* env = Env::Default();
  const std::string tmp = absl::StrCat(path, ".tempstate", absl::Hex(env->Random64()));
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(tmp));
  Progress progress("converting", static_cast<int64_t>(order.size()), offset);
  uint64_t data_bytes = 0;
  absl::Status s = WriteAll(source, order, text, file.get(),
                            options.progress ? &progress : nullptr, &data_bytes);
  progress.Done();
  if (s.ok()) s = file->Sync();
  absl::Status closed = file->Close();
  if (s.ok()) s = closed;
  if (s.ok()) s = RenameIntoPlace(tmp, path);
  if (!s.ok()) {
    env->DeleteFile(tmp).IgnoreError();
    return s;
  }
  stats.tensors = static_cast<int64_t>(order.size());
  stats.bytes = static_cast<int64_t>(data_bytes);
  return stats;
}

}  // namespace tools
}  // namespace ckpt
