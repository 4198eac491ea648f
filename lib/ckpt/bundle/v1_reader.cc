#include "ckpt/v1_reader.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/io/path.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor/slice_copy.h"
#include "ckpt/tensor_proto.h"
#include "saved_tensor_slice.pb.h"

namespace ckpt {
namespace {

// TensorFlow stamps V1 files with checkpoint version 1; a file that needs a
// newer consumer (or lists 1 as a bad consumer) is not for us.
constexpr int kV1ConsumerVersion = 1;
// A sharded name's count is printed with %05d; a larger number than this is
// not a shard count TensorFlow wrote.
constexpr int64_t kMaxShards = 100000;
// Slices per tensor whose pairwise overlap we are willing to check.
constexpr size_t kMaxSlicesPerTensor = 4096;
// Grid cells × slices the search for an uncovered element may visit.
constexpr int64_t kMaxCoverageProbes = 10'000'000;

std::string Quote(absl::string_view s) { return absl::StrCat("'", absl::CHexEscape(s), "'"); }

// "base-00001-of-00004" or "base-?????-of-00004": the base and the count.
bool ParseShardedName(absl::string_view path, std::string* base, int64_t* count) {
  const size_t of = path.rfind("-of-");
  if (of == absl::string_view::npos) return false;
  absl::string_view n = path.substr(of + 4);
  if (n.size() < 5 || n.size() > 9 || !std::all_of(n.begin(), n.end(), absl::ascii_isdigit)) {
    return false;
  }
  const size_t dash = path.rfind('-', of == 0 ? 0 : of - 1);
  if (dash == absl::string_view::npos || dash == 0) return false;
  absl::string_view id = path.substr(dash + 1, of - dash - 1);
  const bool digits = std::all_of(id.begin(), id.end(), absl::ascii_isdigit);
  const bool pattern = std::all_of(id.begin(), id.end(), [](char c) { return c == '?'; });
  if (id.size() < 5 || !(digits || pattern)) return false;
  if (!absl::SimpleAtoi(n, count)) return false;
  *base = std::string(path.substr(0, dash));
  return true;
}

std::string ShardName(const std::string& base, int64_t i, int64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "-%05lld-of-%05lld", static_cast<long long>(i),
                static_cast<long long>(n));
  return base + buf;
}

absl::StatusOr<std::vector<std::string>> ShardSet(const std::string& path,
                                                  const std::string& base, int64_t n,
                                                  Env* env) {
  if (n < 1 || n > kMaxShards) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a V1 checkpoint of ", n, " shards is not one TensorFlow writes"));
  }
  std::vector<std::string> files;
  for (int64_t i = 0; i < n; ++i) {
    files.push_back(ShardName(base, i, n));
    if (!env->FileExists(files.back())) {
      return absl::NotFoundError(absl::StrCat("V1 checkpoint ", path, " is missing shard ", i,
                                              " of ", n, ": no file ", files.back()));
    }
  }
  return files;
}

// Resolved [begin, end) per dimension.
struct Box {
  std::vector<int64_t> begin, end;
};

Box ToBox(const TensorSlice& s, const TensorShape& shape) {
  Box b;
  for (int d = 0; d < s.rank(); ++d) {
    b.begin.push_back(s.Start(d));
    b.end.push_back(s.End(d, shape.dim(d)));
  }
  return b;
}

bool Overlap(const Box& a, const Box& b) {
  for (size_t d = 0; d < a.begin.size(); ++d) {
    if (std::max(a.begin[d], b.begin[d]) >= std::min(a.end[d], b.end[d])) return false;
  }
  return true;  // rank 0: two slices of a scalar always overlap
}

bool Inside(const std::vector<int64_t>& point, const Box& b) {
  for (size_t d = 0; d < point.size(); ++d) {
    if (point[d] < b.begin[d] || point[d] >= b.end[d]) return false;
  }
  return true;
}

// The field of a TensorProto that holds values of `dtype` in a V1 record,
// its number of entries, and how many entries one element takes. False for
// dtypes V1 never stored.
bool TypedValueCount(const ::tensorflow::TensorProto& p, DType dtype, int64_t* entries,
                     int* per_element) {
  *per_element = 1;
  switch (dtype) {
    case DT_FLOAT: *entries = p.float_val_size(); return true;
    case DT_DOUBLE: *entries = p.double_val_size(); return true;
    case DT_INT32:
    case DT_INT16:
    case DT_INT8:
    case DT_UINT8:
    case DT_UINT16:
    case DT_QINT8:
    case DT_QUINT8:
    case DT_QINT16:
    case DT_QUINT16:
    case DT_QINT32: *entries = p.int_val_size(); return true;
    case DT_INT64: *entries = p.int64_val_size(); return true;
    case DT_BOOL: *entries = p.bool_val_size(); return true;
    case DT_STRING: *entries = p.string_val_size(); return true;
    case DT_HALF: *entries = p.half_val_size(); return true;
    case DT_BFLOAT16:
      *entries = p.half_val_size() > 0 ? p.half_val_size() : p.int_val_size();
      return true;
    case DT_COMPLEX64: *entries = p.scomplex_val_size(); *per_element = 2; return true;
    case DT_COMPLEX128: *entries = p.dcomplex_val_size(); *per_element = 2; return true;
    default: return false;
  }
}

// The fewest record bytes one element can take in any encoding
// TensorFromProto accepts (packed fixed-width floats, varints of at least a
// byte): a record of n bytes cannot hold more than n / this elements.
int64_t MinBytesPerElement(DType dtype) {
  switch (dtype) {
    case DT_FLOAT: return 4;
    case DT_DOUBLE:
    case DT_COMPLEX64: return 8;
    case DT_COMPLEX128: return 16;
    default: return 1;
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> V1CheckpointFiles(const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  std::string base;
  int64_t n = 0;
  if (ParseShardedName(path, &base, &n)) return ShardSet(path, base, n, env);
  if (env->FileExists(path) && !env->IsDirectory(path)) return std::vector<std::string>{path};
  // A prefix of a sharded set: find its first shard to learn the count.
  const std::string dir = DirName(path);
  const std::string first = BaseName(path) + "-00000-of-";
  absl::StatusOr<std::vector<std::string>> children = env->GetChildren(dir.empty() ? "." : dir);
  if (children.ok()) {
    std::vector<std::string> found;
    for (const std::string& c : *children) {
      if (absl::StartsWith(c, first) && ParseShardedName(c, &base, &n)) found.push_back(c);
    }
    std::sort(found.begin(), found.end());
    if (found.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "V1 checkpoint ", path, " is ambiguous: shard sets ", absl::StrJoin(found, ", ")));
    }
    if (found.size() == 1) {
      ParseShardedName(JoinPath(dir, found[0]), &base, &n);
      return ShardSet(path, base, n, env);
    }
  }
  return absl::NotFoundError(absl::StrCat("no V1 checkpoint at ", path, ": neither the file ",
                                          path, " nor ", path, "-00000-of-NNNNN exists"));
}

V1Reader::~V1Reader() = default;

absl::StatusOr<std::unique_ptr<V1Reader>> V1Reader::Open(const std::string& path,
                                                         V1ReaderOptions options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::unique_ptr<V1Reader> r(new V1Reader());
  CKPT_ASSIGN_OR_RETURN(r->files_, V1CheckpointFiles(path, env));
  for (size_t i = 0; i < r->files_.size(); ++i) {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ReadOnlyFile> file, env->NewReadOnlyFile(r->files_[i]));
    CKPT_RETURN_IF_ERROR(r->LoadFile(static_cast<int>(i), std::move(file)));
  }
  // Slices of one tensor must not overlap: which one's values would be the
  // tensor's? (TensorFlow refuses such files too.)
  for (const V1EntryInfo& e : r->entries_) {
    if (e.slices.size() > kMaxSlicesPerTensor) {
      return absl::DataLossError(absl::StrCat(
          "V1 checkpoint ", path, ": tensor ", Quote(e.name), " lists ", e.slices.size(),
          " slices, more than the ", kMaxSlicesPerTensor, " this reader accepts"));
    }
    std::vector<Box> boxes;
    for (const V1SliceInfo& s : e.slices) boxes.push_back(ToBox(s.slice, e.shape));
    for (size_t a = 0; a < boxes.size(); ++a) {
      for (size_t b = a + 1; b < boxes.size(); ++b) {
        if (Overlap(boxes[a], boxes[b])) {
          return absl::DataLossError(absl::StrCat(
              "V1 checkpoint ", path, ": tensor ", Quote(e.name), " has overlapping slices \"",
              e.slices[a].slice.ToString(), "\" (in ", r->files_[e.slices[a].file], ") and \"",
              e.slices[b].slice.ToString(), "\" (in ", r->files_[e.slices[b].file], ")"));
        }
      }
    }
  }
  return r;
}

absl::Status V1Reader::LoadFile(int index, std::unique_ptr<ReadOnlyFile> file) {
  const std::string& fname = files_[index];
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<IndexTable> table, IndexTable::Open(std::move(file)));
  const int64_t meta_at = table->Find("");
  if (meta_at < 0) {
    return absl::DataLossError(absl::StrCat(
        fname, ": not a V1 checkpoint: no table of contents (no record under the empty key)"));
  }
  ::tensorflow::SavedTensorSlices sts;
  const absl::string_view meta_bytes = table->value(static_cast<size_t>(meta_at));
  if (!sts.ParseFromArray(meta_bytes.data(), static_cast<int>(meta_bytes.size())) ||
      !sts.has_meta() || sts.has_data()) {
    return absl::DataLossError(absl::StrCat(
        fname, ": the V1 table of contents (the record under the empty key) does not parse"));
  }
  const ::tensorflow::VersionDef& v = sts.meta().versions();
  if (v.min_consumer() > kV1ConsumerVersion ||
      std::count(v.bad_consumers().begin(), v.bad_consumers().end(), kV1ConsumerVersion) > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        fname, ": V1 checkpoint needs a newer reader (producer ", v.producer(),
        ", min_consumer ", v.min_consumer(), "; this reader is consumer ", kV1ConsumerVersion,
        ")"));
  }
  if (index == 0) versions_ = v;

  // Merged over files by name; entries_ is rebuilt from it below.
  std::map<std::string, V1EntryInfo> merged;
  for (V1EntryInfo& e : entries_) merged.emplace(e.name, std::move(e));
  for (const ::tensorflow::SavedSliceMeta& m : sts.meta().tensor()) {
    auto bad = [&](absl::string_view what) {
      return absl::DataLossError(
          absl::StrCat(fname, ": tensor ", Quote(m.name()), " in the table of contents: ", what));
    };
    absl::StatusOr<TensorShape> shape = TensorShape::FromProto(m.shape());
    if (!shape.ok()) return bad(shape.status().message());
    const int type = static_cast<int>(m.type());
    if (type == DT_INVALID || type >= 100 || !DTypeIsKnown(type)) {
      return bad(absl::StrCat("dtype ", type, " is not a dtype of a saved tensor"));
    }
    auto [it, inserted] = merged.try_emplace(m.name());
    V1EntryInfo& e = it->second;
    if (inserted) {
      e.name = m.name();
      e.dtype = m.type();
      e.shape = *shape;
    } else if (e.dtype != m.type() || e.shape != *shape) {
      return bad(absl::StrCat("it is ", DTypeName(m.type()), shape->DebugString(), " here but ",
                              DTypeName(e.dtype), e.shape.DebugString(), " in ",
                              files_[e.slices.empty() ? 0 : e.slices[0].file]));
    }
    for (const ::tensorflow::TensorSliceProto& sp : m.slice()) {
      absl::StatusOr<TensorSlice> slice = TensorSlice::FromProto(sp);
      if (!slice.ok()) return bad(slice.status().message());
      absl::Status fits = slice->SliceShape(*shape).status();
      if (!fits.ok()) return bad(absl::StrCat("a slice lies outside the shape: ", fits.message()));
      V1SliceInfo info;
      info.slice = *slice;
      info.file = index;
      info.record = table->Find(EncodeTensorNameSlice(m.name(), *slice));
      if (info.record == meta_at) info.record = -1;
      if (info.record >= 0) info.bytes = table->value(static_cast<size_t>(info.record)).size();
      e.slices.push_back(std::move(info));
    }
  }
  entries_.clear();
  entries_.reserve(merged.size());
  for (auto& [name, e] : merged) entries_.push_back(std::move(e));
  tables_.push_back(std::move(table));
  return absl::OkStatus();
}

bool V1Reader::compressed() const {
  return std::any_of(tables_.begin(), tables_.end(),
                     [](const std::unique_ptr<IndexTable>& t) { return t->compressed(); });
}

const V1EntryInfo* V1Reader::Find(absl::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const V1EntryInfo& e, absl::string_view n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

absl::StatusOr<V1EntryInfo> V1Reader::GetEntry(absl::string_view name) const {
  const V1EntryInfo* e = Find(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("tensor ", Quote(name), " not found in V1 checkpoint ",
                                            files_[0], " (", entries_.size(), " tensors)"));
  }
  return *e;
}

absl::StatusOr<Tensor> V1Reader::DecodeSlice(const V1EntryInfo& e, const V1SliceInfo& s) const {
  const std::string& fname = files_[s.file];
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(fname, ": tensor ", Quote(e.name), " slice \"",
                                            s.slice.ToString(), "\": ", what));
  };
  if (s.record < 0) return bad("the table of contents lists it but the file has no record of it");
  const absl::string_view bytes = tables_[s.file]->value(static_cast<size_t>(s.record));
  CKPT_ASSIGN_OR_RETURN(TensorShape shape, s.slice.SliceShape(e.shape));
  // Bound the decoded size by the record before protobuf or we allocate.
  if (static_cast<uint64_t>(shape.num_elements()) >
      bytes.size() / static_cast<uint64_t>(MinBytesPerElement(e.dtype))) {
    return bad(absl::StrCat("its record of ", bytes.size(), " bytes cannot hold ",
                            shape.num_elements(), " elements of ", DTypeName(e.dtype)));
  }
  ::tensorflow::SavedTensorSlices sts;
  if (!sts.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !sts.has_data()) {
    return bad("its record does not parse");
  }
  const ::tensorflow::SavedSlice& ss = sts.data();
  if (ss.name() != e.name) return bad(absl::StrCat("its record names tensor ", Quote(ss.name())));
  ::tensorflow::TensorProto* p = sts.mutable_data()->mutable_data();
  if (p->dtype() != DT_INVALID && p->dtype() != e.dtype) {
    return bad(absl::StrCat("its record holds ", DTypeName(p->dtype()), ", the table of contents says ",
                            DTypeName(e.dtype)));
  }
  int64_t entries = 0;
  int per_element = 1;
  if (!TypedValueCount(*p, e.dtype, &entries, &per_element)) {
    return absl::UnimplementedError(absl::StrCat(fname, ": tensor ", Quote(e.name), " has dtype ",
                                                 DTypeName(e.dtype),
                                                 ", which V1 checkpoints cannot hold"));
  }
  if (p->tensor_content().empty() && entries != shape.num_elements() * per_element) {
    return bad(absl::StrCat("its record holds ", entries / per_element, " values of ",
                            DTypeName(e.dtype), " for ", shape.num_elements(), " elements ",
                            shape.DebugString()));
  }
  p->set_dtype(e.dtype);
  *p->mutable_tensor_shape() = ::tensorflow::TensorShapeProto();
  for (int64_t d : shape.dims()) p->mutable_tensor_shape()->add_dim()->set_size(d);
  absl::StatusOr<Tensor> t = TensorFromProto(*p);
  if (!t.ok()) return bad(t.status().message());
  return t;
}

// The saved slices, which do not overlap, must hold every element of
// `request`; InvalidArgument naming the first one none holds.
absl::Status V1Reader::CheckCoverage(const V1EntryInfo& e, const TensorSlice& request) const {
  const Box want = ToBox(request, e.shape);
  int64_t wanted = 1, held = 0;
  for (size_t d = 0; d < want.begin.size(); ++d) wanted *= want.end[d] - want.begin[d];
  std::vector<Box> parts;
  for (const V1SliceInfo& s : e.slices) {
    Box b = ToBox(s.slice, e.shape), in;
    int64_t n = 1;
    for (size_t d = 0; d < b.begin.size(); ++d) {
      in.begin.push_back(std::max(b.begin[d], want.begin[d]));
      in.end.push_back(std::min(b.end[d], want.end[d]));
      n *= std::max<int64_t>(0, in.end.back() - in.begin.back());
    }
    held += n;
    if (n > 0 || want.begin.empty()) parts.push_back(std::move(b));
  }
  if (want.begin.empty()) held = parts.empty() ? 0 : 1;  // a scalar
  if (held >= wanted) return absl::OkStatus();

  std::string msg = absl::StrCat("the saved slices of tensor ", Quote(e.name), " ",
                                 DTypeName(e.dtype), e.shape.DebugString(), " in ", files_[0],
                                 " hold ", held, " of the ", wanted, " elements of ",
                                 request.IsFull() ? "the tensor" : "slice \"" + request.ToString() + "\"");
  // Coverage is constant between slice edges, so the first element no slice
  // holds is the corner of one of the grid cells those edges form.
  std::vector<std::vector<int64_t>> coords(want.begin.size());
  int64_t cells = 1;
  for (size_t d = 0; d < coords.size(); ++d) {
    coords[d].push_back(want.begin[d]);
    for (const Box& b : parts) {
      for (int64_t c : {b.begin[d], b.end[d]}) {
        if (c > want.begin[d] && c < want.end[d]) coords[d].push_back(c);
      }
    }
    std::sort(coords[d].begin(), coords[d].end());
    coords[d].erase(std::unique(coords[d].begin(), coords[d].end()), coords[d].end());
    cells = std::min<int64_t>(kMaxCoverageProbes, cells * static_cast<int64_t>(coords[d].size()));
  }
  if (!coords.empty() && cells * static_cast<int64_t>(parts.size() + 1) <= kMaxCoverageProbes) {
    std::vector<size_t> at(coords.size(), 0);
    std::vector<int64_t> point(coords.size());
    while (true) {
      for (size_t d = 0; d < coords.size(); ++d) point[d] = coords[d][at[d]];
      if (std::none_of(parts.begin(), parts.end(), [&](const Box& b) { return Inside(point, b); })) {
        absl::StrAppend(&msg, "; element [", absl::StrJoin(point, ","), "] is in none of them");
        break;
      }
      size_t d = coords.size();
      while (d > 0 && ++at[d - 1] == coords[d - 1].size()) at[--d] = 0;
      if (d == 0) break;
    }
  }
  std::vector<std::string> saved;
  for (const V1SliceInfo& s : e.slices) saved.push_back("\"" + s.slice.ToString() + "\"");
  absl::StrAppend(&msg, " (saved slices: ", saved.empty() ? "none" : absl::StrJoin(saved, ", "), ")");
  return absl::InvalidArgumentError(msg);
}

absl::StatusOr<Tensor> V1Reader::ReadSlice(absl::string_view name,
                                           const TensorSlice& request) const {
  const V1EntryInfo* e = Find(name);
  if (e == nullptr) return GetEntry(name).status();
  absl::StatusOr<TensorShape> shape = request.SliceShape(e->shape);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quote(name), " in ", files_[0], ": ",
                                                   shape.status().message()));
  }
  CKPT_RETURN_IF_ERROR(CheckCoverage(*e, request));
  // A plain tensor: its one record is the answer.
  if (e->slices.size() == 1 && e->slices[0].slice.CoversAll(e->shape) &&
      request.CoversAll(e->shape)) {
    return DecodeSlice(*e, e->slices[0]);
  }
  // Every element of the request lies in a slice whose record was checked
  // (by DecodeSlice) to be large enough to hold it, but records are decoded
  // one at a time: bound the allocation by the records first.
  uint64_t stored = 0;
  for (const V1SliceInfo& s : e->slices) {
    if (!s.slice.Intersect(request, nullptr)) continue;
    if (s.record < 0) return DecodeSlice(*e, s).status();  // says the record is missing
    stored += s.bytes;
  }
  if (static_cast<uint64_t>(shape->num_elements()) >
      stored / static_cast<uint64_t>(MinBytesPerElement(e->dtype))) {
    return absl::DataLossError(absl::StrCat(
        files_[0], ": tensor ", Quote(name), ": its records (", stored,
        " bytes) cannot hold the ", shape->num_elements(), " elements its slices claim"));
  }
  CKPT_ASSIGN_OR_RETURN(Tensor out, Tensor::Allocate(e->dtype, *shape));
  for (const V1SliceInfo& s : e->slices) {
    TensorSlice region;
    if (!s.slice.Intersect(request, &region)) continue;
    CKPT_ASSIGN_OR_RETURN(Tensor part, DecodeSlice(*e, s));
    CKPT_RETURN_IF_ERROR(CopySliceRegion(e->shape, part, s.slice, &out, request, region));
  }
  return out;
}

absl::StatusOr<Tensor> V1Reader::Read(absl::string_view name) const {
  const V1EntryInfo* e = Find(name);
  if (e == nullptr) return GetEntry(name).status();
  return ReadSlice(name, TensorSlice(e->shape.rank()));
}

std::vector<std::string> V1Reader::CheckRecords() const {
  std::vector<std::string> problems;
  // (file, record) pairs the tables of contents account for.
  std::vector<std::vector<bool>> listed(tables_.size());
  for (size_t f = 0; f < tables_.size(); ++f) listed[f].assign(tables_[f]->size(), false);
  for (const V1EntryInfo& e : entries_) {
    for (const V1SliceInfo& s : e.slices) {
      if (s.record >= 0) listed[s.file][static_cast<size_t>(s.record)] = true;
    }
  }
  for (size_t f = 0; f < tables_.size(); ++f) {
    const IndexTable& t = *tables_[f];
    for (size_t i = 0; i < t.size(); ++i) {
      const absl::string_view key = t.key(i);
      if (key.empty()) continue;
      auto problem = [&](absl::string_view what) {
        problems.push_back(absl::StrCat(files_[f], ": record ", Quote(key), ": ", what));
      };
      ::tensorflow::SavedTensorSlices sts;
      const absl::string_view v = t.value(i);
      if (!sts.ParseFromArray(v.data(), static_cast<int>(v.size())) || !sts.has_data()) {
        problem("does not parse as a saved slice");
        continue;
      }
      absl::StatusOr<TensorSlice> slice = TensorSlice::FromProto(sts.data().slice());
      if (!slice.ok() || EncodeTensorNameSlice(sts.data().name(), *slice) != key) {
        problem(absl::StrCat("holds tensor ", Quote(sts.data().name()), " slice \"",
                             slice.ok() ? slice->ToString() : "(invalid)",
                             "\", which is not what its key says"));
        continue;
      }
      if (!listed[f][i]) problem("is not listed in the file's table of contents");
    }
  }
  return problems;
}

}  // namespace ckpt
