#include "common/npz.h"

#include <fcntl.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/env.h"
#include "ckpt/status_macros.h"
#include "common/npy.h"
#include "common/progress.h"

namespace ckpt {
namespace tools {
namespace {

constexpr char kNpySuffix[] = ".npy";
// Deflate cannot expand data by more than about 1032:1 (a 258-byte match
// costs at least 2 bits); a member claiming more is lying about its size.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kDeflateSlack = 1024;  // stream headers and tiny members

std::string MemberLabel(absl::string_view archive, absl::string_view member) {
  return absl::StrCat(archive, ", member '", member, "'");
}

std::string ZipErrorString(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

struct ZipCloser {
  void operator()(zip_t* za) const { zip_discard(za); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using ZipFilePtr = std::unique_ptr<zip_file_t, ZipFileCloser>;

// ---- reading ----------------------------------------------------------------

// One member opened for reading front to back.
class MemberReader {
 public:
  MemberReader(zip_file_t* file, std::string label) : file_(file), label_(std::move(label)) {}

  // Exactly n bytes into dst, or an error naming the member.
  absl::Status ReadExactly(char* dst, uint64_t n) {
    while (n > 0) {
      const zip_int64_t got = zip_fread(file_.get(), dst, n);
      if (got < 0) {
        return absl::DataLossError(
            absl::StrCat(label_, ": ", zip_file_strerror(file_.get())));
      }
      if (got == 0) {
        return absl::DataLossError(absl::StrCat(label_, ": data ends early (", n,
                                                " bytes missing)"));
      }
      dst += got;
      n -= static_cast<uint64_t>(got);
      pos_ += static_cast<uint64_t>(got);
    }
    return absl::OkStatus();
  }

  // An NpyReadFn over the stream: offsets only move forward.
  absl::StatusOr<absl::string_view> ReadAt(uint64_t offset, size_t n) {
    if (offset < pos_) {
      return absl::InternalError(absl::StrCat(label_, ": read moved backwards"));
    }
    std::string skip(offset - pos_, '\0');
    CKPT_RETURN_IF_ERROR(ReadExactly(skip.data(), skip.size()));
    scratch_.resize(n);
    CKPT_RETURN_IF_ERROR(ReadExactly(scratch_.data(), n));
    return absl::string_view(scratch_);
  }

  // The member must end here; reading to its end makes libzip check its
  // CRC-32.
  absl::Status ExpectEnd() {
    char extra;
    const zip_int64_t got = zip_fread(file_.get(), &extra, 1);
    if (got < 0) {
      return absl::DataLossError(absl::StrCat(label_, ": ", zip_file_strerror(file_.get())));
    }
    if (got > 0) {
      return absl::DataLossError(absl::StrCat(label_, ": more data than its .npy header says"));
    }
    return absl::OkStatus();
  }

 private:
  ZipFilePtr file_;
  std::string label_;
  uint64_t pos_ = 0;
  std::string scratch_;
};

class NpzSource : public TensorSource {
 public:
  static absl::StatusOr<std::unique_ptr<TensorSource>> Open(const std::string& path) {
    if (!Env::Default()->FileExists(path)) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    int code = 0;
    zip_t* za = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (za == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a readable .npz (zip) archive: ", ZipErrorString(code)));
    }
    std::unique_ptr<NpzSource> source(new NpzSource(path, ZipPtr(za)));
    CKPT_RETURN_IF_ERROR(source->List());
    return std::unique_ptr<TensorSource>(std::move(source));
  }

  const std::string& path() const override { return path_; }
  std::map<std::string, std::string> metadata() const override {
    return {{"source_format", "npz"}};
  }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }

  absl::StatusOr<Tensor> Read(size_t i) const override {
    if (i >= tensors_.size()) {
      return absl::OutOfRangeError(absl::StrCat(path_, ": no tensor ", i));
    }
    const std::string label = MemberLabel(path_, members_[i].name);
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<MemberReader> reader, OpenMember(i));
    CKPT_ASSIGN_OR_RETURN(NpyLayout layout, ReadLayout(reader.get(), i));
    const SourceTensor& want = tensors_[i];
    if (layout.dtype != want.dtype || layout.shape != want.shape) {
      return absl::DataLossError(absl::StrCat(label, ": header changed since the archive was opened"));
    }
    Tensor t;
    if (layout.dtype == DT_STRING) {
      std::string data(layout.data_bytes, '\0');
      CKPT_RETURN_IF_ERROR(reader->ReadExactly(data.data(), data.size()));
      CKPT_ASSIGN_OR_RETURN(t, DecodeNpyStrings(layout, data, label));
    } else {
      CKPT_ASSIGN_OR_RETURN(t, Tensor::AllocateUninitialized(layout.dtype, layout.shape));
      CKPT_RETURN_IF_ERROR(reader->ReadExactly(t.mutable_raw_data(), layout.data_bytes));
      FinishNpyFixed(layout, &t);
    }
    CKPT_RETURN_IF_ERROR(reader->ExpectEnd());
    return t;
  }

 private:
  struct Member {
    zip_uint64_t index;
    std::string name;  // as stored, "<tensor>.npy"
    uint64_t size;     // uncompressed
  };

  NpzSource(std::string path, ZipPtr za) : path_(std::move(path)), za_(std::move(za)) {}

  absl::Status List() {
    const zip_int64_t n = zip_get_num_entries(za_.get(), 0);
    for (zip_int64_t k = 0; k < n; ++k) {
      const zip_uint64_t index = static_cast<zip_uint64_t>(k);
      zip_stat_t st;
      // The name's bytes as stored: UTF-8 when flagged so (np.savez flags
      // every non-ASCII name), else taken as they are rather than guessed.
      if (zip_stat_index(za_.get(), index, ZIP_FL_ENC_RAW, &st) != 0) {
        return absl::DataLossError(absl::StrCat(path_, ": entry ", k, ": ",
                                                zip_strerror(za_.get())));
      }
      const uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                            ZIP_STAT_COMP_METHOD | ZIP_STAT_ENCRYPTION_METHOD;
      if ((st.valid & need) != need) {
        return absl::DataLossError(absl::StrCat(path_, ": entry ", k, " lacks its name or sizes"));
      }
      const std::string name = st.name;
      const std::string label = MemberLabel(path_, name);
      if (absl::EndsWith(name, "/") && st.size == 0) continue;  // a directory entry
      if (!absl::EndsWith(name, kNpySuffix)) {
        return absl::InvalidArgumentError(absl::StrCat(
            label, ": not an array (.npz members are '<name>.npy', as np.savez writes them)"));
      }
      if (st.encryption_method != ZIP_EM_NONE) {
        return absl::UnimplementedError(absl::StrCat(label, ": encrypted members are not supported"));
      }
      if (st.comp_method == ZIP_CM_STORE) {
        if (st.comp_size != st.size) {
          return absl::DataLossError(absl::StrCat(label, ": stored member's sizes disagree (",
                                                  st.size, " vs ", st.comp_size, " bytes)"));
        }
      } else if (st.comp_method == ZIP_CM_DEFLATE) {
        if (st.comp_size > (std::numeric_limits<uint64_t>::max() - kDeflateSlack) / kMaxDeflateRatio ||
            st.size > st.comp_size * kMaxDeflateRatio + kDeflateSlack) {
          return absl::DataLossError(absl::StrCat(
              label, ": claims ", st.size, " bytes from ", st.comp_size,
              " compressed bytes, more than deflate can produce"));
        }
      } else {
        return absl::UnimplementedError(absl::StrCat(
            label, ": compression method ", st.comp_method, " (only stored and deflate are read)"));
      }
      members_.push_back({index, name, st.size});
      SourceTensor info;
      info.name = name.substr(0, name.size() - std::strlen(kNpySuffix));
      CKPT_ASSIGN_OR_RETURN(std::unique_ptr<MemberReader> reader, OpenMember(members_.size() - 1));
      CKPT_ASSIGN_OR_RETURN(NpyLayout layout, ReadLayout(reader.get(), members_.size() - 1));
      info.dtype = layout.dtype;
      info.shape = layout.shape;
      info.bytes = layout.data_bytes;
      tensors_.push_back(std::move(info));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<MemberReader>> OpenMember(size_t i) const {
    zip_file_t* f = zip_fopen_index(za_.get(), members_[i].index, 0);
    if (f == nullptr) {
      return absl::DataLossError(
          absl::StrCat(MemberLabel(path_, members_[i].name), ": ", zip_strerror(za_.get())));
    }
    return std::make_unique<MemberReader>(f, MemberLabel(path_, members_[i].name));
  }

  absl::StatusOr<NpyLayout> ReadLayout(MemberReader* reader, size_t i) const {
    NpyReadFn read = [reader](uint64_t offset, size_t n) { return reader->ReadAt(offset, n); };
    return ReadNpyLayout(read, members_[i].size, MemberLabel(path_, members_[i].name));
  }

  std::string path_;
  ZipPtr za_;
  std::vector<Member> members_;
  std::vector<SourceTensor> tensors_;
};

// ---- writing ----------------------------------------------------------------

// How one tensor becomes a member.
struct PlannedMember {
  size_t index;              // in source.tensors()
  std::string descr;         // NumPy type string
  NpyStringType strings = NpyStringType::kBytes;
  bool bf16_to_f32 = false;
  uint64_t size = 0;         // header + data
};

struct NpzWriter;

// The state of one member's zip source while libzip pulls its bytes.
struct MemberSource {
  MemberSource() { zip_error_init(&error); }
  ~MemberSource() { zip_error_fini(&error); }
  MemberSource(const MemberSource&) = delete;
  MemberSource& operator=(const MemberSource&) = delete;

  NpzWriter* writer = nullptr;
  const PlannedMember* plan = nullptr;
  zip_error_t error;
  std::string header;
  Tensor tensor;         // fixed-size data (converted if needed)
  std::string strings;   // encoded string data
  absl::string_view data;
  uint64_t pos = 0;
};

struct NpzWriter {
  const TensorSource* source = nullptr;
  std::string path;
  absl::Status status;  // the first error a callback met
  Progress* progress = nullptr;
  int64_t done = 0;
  uint64_t bytes_done = 0;  // member bytes, for progress
  uint64_t data_bytes = 0;  // array data alone
};

// float32 with the same value as each bfloat16 (its bits are the high half).
absl::StatusOr<Tensor> Bf16ToF32(const Tensor& t) {
  CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::AllocateUninitialized(DT_FLOAT, t.shape()));
  absl::Span<const uint16_t> in = t.flat<uint16_t>();
  absl::Span<float> dst = out.mutable_flat<float>();
  for (size_t i = 0; i < in.size(); ++i) {
    const uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(&dst[i], &bits, 4);
  }
  return out;
}

absl::Status OpenMemberData(MemberSource* m) {
  const TensorSource& source = *m->writer->source;
  const SourceTensor& info = source.tensors()[m->plan->index];
  CKPT_ASSIGN_OR_RETURN(Tensor t, source.Read(m->plan->index));
  if (t.dtype() != info.dtype || t.shape() != info.shape) {
    return absl::DataLossError(absl::StrCat(source.path(), ": tensor '", info.name, "' read as ",
                                            t.DebugString(), " but was listed as ",
                                            DTypeName(info.dtype), info.shape.DebugString()));
  }
  m->header = NpyHeader(m->plan->descr, info.shape);
  if (t.dtype() == DT_STRING) {
    CKPT_ASSIGN_OR_RETURN(NpyStrings s, EncodeNpyStrings(t, m->plan->strings, /*lossless=*/true));
    if (s.descr != m->plan->descr) {
      return absl::DataLossError(absl::StrCat(source.path(), ": tensor '", info.name,
                                              "' changed while it was being converted"));
    }
    m->strings = std::move(s.data);
    m->data = m->strings;
  } else {
    if (m->plan->bf16_to_f32) {
      CKPT_ASSIGN_OR_RETURN(t, Bf16ToF32(t));
    }
    m->tensor = std::move(t);
    m->data = m->tensor.bytes();
  }
  if (m->header.size() + m->data.size() != m->plan->size) {
    return absl::InternalError(absl::StrCat("npz member for '", info.name, "' changed size"));
  }
  m->pos = 0;
  return absl::OkStatus();
}

// libzip's source callback: the member's bytes, produced on demand.
zip_int64_t MemberCallback(void* userdata, void* data, zip_uint64_t len, zip_source_cmd_t cmd) {
  MemberSource* m = static_cast<MemberSource*>(userdata);
  switch (cmd) {
    case ZIP_SOURCE_OPEN: {
      absl::Status s = OpenMemberData(m);
      if (!s.ok()) {
        if (m->writer->status.ok()) m->writer->status = s;
        zip_error_set(&m->error, ZIP_ER_READ, 0);
        return -1;
      }
      return 0;
    }
    case ZIP_SOURCE_READ: {
      char* out = static_cast<char*>(data);
      zip_uint64_t n = 0;
      while (n < len && m->pos < m->plan->size) {
        const bool in_header = m->pos < m->header.size();
        absl::string_view part = in_header ? absl::string_view(m->header).substr(m->pos)
                                           : m->data.substr(m->pos - m->header.size());
        const size_t take = std::min<uint64_t>(part.size(), len - n);
        std::memcpy(out + n, part.data(), take);
        n += take;
        m->pos += take;
      }
      return static_cast<zip_int64_t>(n);
    }
    case ZIP_SOURCE_CLOSE: {
      NpzWriter* w = m->writer;
      w->bytes_done += m->plan->size;
      w->data_bytes += m->data.size();
      ++w->done;
      if (w->progress != nullptr) w->progress->Update(w->done, w->bytes_done);
      m->tensor = Tensor();
      m->strings = std::string();
      m->header = std::string();
      m->data = {};
      return 0;
    }
    case ZIP_SOURCE_STAT: {
      zip_stat_t* st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &m->error);
      if (st == nullptr) return -1;
      zip_stat_init(st);
      st->size = m->plan->size;
      st->valid |= ZIP_STAT_SIZE;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
      return zip_error_to_data(&m->error, data, len);
    case ZIP_SOURCE_FREE:
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                            -1);
    default:
      zip_error_set(&m->error, ZIP_ER_OPNOTSUPP, 0);
      return -1;
  }
}

// Decides how each tensor is written (or that it is skipped). String
// tensors are read here to choose their type and width, and again when
// their member is written.
absl::StatusOr<std::vector<PlannedMember>> PlanMembers(const TensorSource& source,
                                                       const SinkOptions& options,
                                                       ConvertStats* stats) {
  std::vector<PlannedMember> plan;
  int64_t bf16_count = 0;
  for (size_t i = 0; i < source.tensors().size(); ++i) {
    const SourceTensor& info = source.tensors()[i];
    const std::string what = absl::StrCat(source.path(), ": tensor '", info.name, "'");
    if (info.name.find('\0') != std::string::npos) {
      CKPT_RETURN_IF_ERROR(SkipOrRefuse(
          options, absl::StrCat(what, ": a NUL byte in the name cannot be a zip member name"),
          stats));
      continue;
    }
    if (!IsValidUtf8(info.name)) {
      // Zip names are UTF-8 or CP437; NumPy (Python's zipfile) would read
      // other bytes as CP437, a different name.
      CKPT_RETURN_IF_ERROR(SkipOrRefuse(
          options, absl::StrCat(what, ": the name is not UTF-8, which zip member names need"),
          stats));
      continue;
    }
    PlannedMember m;
    m.index = i;
    uint64_t data_size = 0;
    if (info.dtype == DT_STRING) {
      CKPT_ASSIGN_OR_RETURN(Tensor t, source.Read(i));
      absl::StatusOr<NpyStrings> s = absl::UnimplementedError("");
      if (options.strings_as_unicode) {
        s = EncodeNpyStrings(t, NpyStringType::kUnicode, /*lossless=*/true);
        if (s.ok()) {
          m.strings = NpyStringType::kUnicode;
        } else {
          Warn(options, absl::StrCat(what, ": written as bytes ('|S'), not unicode: ",
                                     s.status().message()));
        }
      }
      if (!s.ok()) s = EncodeNpyStrings(t, NpyStringType::kBytes, /*lossless=*/true);
      if (!s.ok()) {
        CKPT_RETURN_IF_ERROR(SkipOrRefuse(options, absl::StrCat(what, ": ", s.status().message()),
                                          stats));
        continue;
      }
      m.descr = s->descr;
      data_size = s->data.size();
    } else if (info.dtype == DT_BFLOAT16) {
      ++bf16_count;
      m.bf16_to_f32 = options.bf16_to_f32;
      CKPT_ASSIGN_OR_RETURN(m.descr, NpyDescr(options.bf16_to_f32 ? DT_FLOAT : DT_UINT16));
      data_size = static_cast<uint64_t>(info.shape.num_elements()) * (options.bf16_to_f32 ? 4 : 2);
    } else {
      absl::StatusOr<std::string> descr = NpyDescr(info.dtype);
      if (!descr.ok()) {
        CKPT_RETURN_IF_ERROR(SkipOrRefuse(
            options, absl::StrCat(what, ": NumPy has no type for ", DTypeName(info.dtype)), stats));
        continue;
      }
      m.descr = *descr;
      data_size = static_cast<uint64_t>(info.shape.num_elements()) * DTypeSize(info.dtype);
    }
    m.size = NpyHeader(m.descr, info.shape).size() + data_size;
    plan.push_back(std::move(m));
  }
  if (bf16_count > 0 && !options.bf16_to_f32) {
    Warn(options, absl::StrCat("note: ", bf16_count,
                               " bfloat16 tensor(s) written as their raw bits ('<u2'); "
                               "use --bf16_to_f32 for float32, or view them with "
                               "ml_dtypes.bfloat16 in NumPy"));
  }
  return plan;
}

// What np.savez writes for no arrays: an end-of-central-directory record
// alone (libzip deletes an archive with no entries instead of writing one).
std::string EmptyZip() {
  std::string out("PK\x05\x06", 4);
  out.append(18, '\0');
  return out;
}

absl::Status SyncAndRename(Env* env, const std::string& tmp, const std::string& path) {
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return absl::InternalError(absl::StrCat(tmp, ": cannot sync: ", std::strerror(err)));
  }
  ::close(fd);
  return RenameIntoPlace(tmp, path);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TensorSource>> OpenNpzSource(const std::string& path) {
  return NpzSource::Open(path);
}

absl::StatusOr<ConvertStats> WriteNpz(const TensorSource& source, const std::string& path,
                                      const SinkOptions& options) {
  Env* env = Env::Default();
  ConvertStats stats;
  CKPT_ASSIGN_OR_RETURN(std::vector<PlannedMember> plan, PlanMembers(source, options, &stats));
  if (plan.empty()) {
    CKPT_RETURN_IF_ERROR(WriteFileAtomically(env, path, EmptyZip()));
    return stats;
  }
  uint64_t total_bytes = 0;
  for (const PlannedMember& m : plan) total_bytes += m.size;
  Progress progress("converting", static_cast<int64_t>(plan.size()), total_bytes);
  NpzWriter writer;
  writer.source = &source;
  writer.path = path;
  writer.progress = options.progress ? &progress : nullptr;
  // Outlives the archive: libzip calls back into these until it is closed
  // or discarded.
  std::vector<MemberSource> members(plan.size());

  const std::string tmp = absl::StrCat(path, ".tempstate", absl::Hex(env->Random64()));
  int code = 0;
  zip_t* za = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_EXCL, &code);
  if (za == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(tmp, ": cannot create the archive: ", ZipErrorString(code)));
  }
  ZipPtr archive(za);
  for (size_t k = 0; k < plan.size(); ++k) {
    MemberSource& m = members[k];
    m.writer = &writer;
    m.plan = &plan[k];
    const std::string name = source.tensors()[plan[k].index].name + kNpySuffix;
    zip_source_t* src = zip_source_function(za, MemberCallback, &m);
    const zip_int64_t index =
        src == nullptr ? -1 : zip_file_add(za, name.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (src != nullptr) zip_source_free(src);
      return absl::InternalError(absl::StrCat(MemberLabel(path, name), ": ", zip_strerror(za)));
    }
    if (zip_set_file_compression(za, static_cast<zip_uint64_t>(index),
                                 options.compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) != 0) {
      return absl::InternalError(absl::StrCat(MemberLabel(path, name), ": ", zip_strerror(za)));
    }
  }
  // libzip writes the archive here (to its own temporary file, renamed to
  // `tmp`), pulling each member's bytes through MemberCallback.
  if (zip_close(za) != 0) {
    progress.Done();
    if (!writer.status.ok()) return writer.status;
    return absl::InternalError(absl::StrCat(path, ": writing the archive: ", zip_strerror(za)));
  }
  archive.release();
  progress.Done();
  // libzip does not sync; the archive is made durable before it takes its
  // name, as BundleWriter's files are.
  absl::Status s = SyncAndRename(env, tmp, path);
  if (!s.ok()) {
    env->DeleteFile(tmp).IgnoreError();
    return s;
  }
  stats.tensors = writer.done;
  stats.bytes = static_cast<int64_t>(writer.data_bytes);
  return stats;
}

}  // namespace tools
}  // namespace ckpt
