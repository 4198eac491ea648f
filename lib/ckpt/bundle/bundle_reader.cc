#include "ckpt/bundle_reader.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "ckpt/bundle/entry_codec.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/bundle/string_codec.h"
#include "ckpt/crc32c.h"
#include "ckpt/naming.h"
#include "ckpt/status_macros.h"
#include "ckpt/tensor/byte_swap.h"
#include "ckpt/tensor/slice_copy.h"

namespace ckpt {
namespace {

// Verification is done in pieces this size, right after each is copied, so
// that the checksum reads cached bytes.
constexpr size_t kChunk = 256 << 10;
// Indexes with more records than this are checked by two threads.
constexpr size_t kParallelCheckRecords = 20000;
// Payloads up to this size are copied straight out of the mapping.
constexpr size_t kSmallPayload = 64 << 10;

// Up to this many data files are opened by Open (more are opened on first
// read, to bound the descriptors a reader holds).
constexpr int kMaxShardsOpenedAtOpen = 64;

std::string Quote(absl::string_view name) {
  return absl::StrCat("'", absl::CHexEscape(name), "'");
}

// Levenshtein distance, giving up (returning cap+1) once it exceeds cap.
size_t EditDistance(absl::string_view a, absl::string_view b, size_t cap) {
  if (a.size() > b.size() + cap || b.size() > a.size() + cap) return cap + 1;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > cap) return cap + 1;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

absl::Status ChecksumMismatch(const std::string& path, const BundleEntryInfo& e,
                              uint32_t computed) {
  return absl::DataLossError(absl::StrCat(
      path, ": checksum does not match for tensor ", Quote(e.name), " at bytes [", e.offset,
      ", ", e.offset + e.size, "): stored ", absl::Hex(e.crc32c, absl::kZeroPad8),
      ", computed ", absl::Hex(computed, absl::kZeroPad8)));
}

}  // namespace

struct BundleReader::Shard {
  std::unique_ptr<ReadOnlyFile> file;
};

BundleReader::~BundleReader() = default;

bool BundleReader::index_compressed() const { return table_->compressed(); }

absl::StatusOr<std::unique_ptr<BundleReader>> BundleReader::Open(
    const std::string& prefix, BundleReaderOptions options) {
  std::unique_ptr<BundleReader> r(new BundleReader());
  r->prefix_ = prefix;
  r->env_ = options.env != nullptr ? options.env : Env::Default();
  CKPT_RETURN_IF_ERROR(r->Init());
  return r;
}

absl::Status BundleReader::Init() {
  const std::string index_path = IndexFilename(prefix_);
  absl::StatusOr<std::unique_ptr<ReadOnlyFile>> file = env_->NewReadOnlyFile(index_path);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) {
      return absl::NotFoundError(absl::StrCat("no checkpoint at prefix ", prefix_, ": ",
                                              index_path, " does not exist"));
    }
    return file.status();
  }
  CKPT_ASSIGN_OR_RETURN(table_, IndexTable::Open(*std::move(file)));
  auto corrupt = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat(index_path, ": ", what));
  };

  if (table_->size() == 0 || !table_->key(0).empty()) {
    return corrupt("no header record (the table's first key is not empty)");
  }
  if (!header_.ParseFromArray(table_->value(0).data(), static_cast<int>(table_->value(0).size()))) {
    return corrupt("unable to parse the header record");
  }
  const auto& v = header_.version();
  if (v.producer() < 0) {
    return corrupt(absl::StrCat("invalid producer version ", v.producer()));
  }
  if (v.min_consumer() > kVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        index_path, ": checkpoint needs a reader of version ", v.min_consumer(),
        " or newer (this reader is version ", kVersion, "); upgrade ckpt"));
  }
  for (int bad : v.bad_consumers()) {
    if (bad == kVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          index_path, ": checkpoint declares reader version ", kVersion,
          " unable to read it (bad_consumers)"));
    }
  }
  if (header_.num_shards() <= 0) {
    return corrupt(absl::StrCat("invalid number of shards ", header_.num_shards()));
  }
  if (header_.endianness() != ::tensorflow::BundleHeaderProto::LITTLE &&
      header_.endianness() != ::tensorflow::BundleHeaderProto::BIG) {
    return corrupt(absl::StrCat("unknown byte order ", static_cast<int>(header_.endianness())));
  }
  const bool big = header_.endianness() == ::tensorflow::BundleHeaderProto::BIG;
  foreign_ = big == kHostIsLittleEndian;

  shard_slots_ = std::min<size_t>(static_cast<size_t>(header_.num_shards()), kShardSlots);
  open_shards_.reset(new std::atomic<const Shard*>[shard_slots_]);
  for (size_t i = 0; i < shard_slots_; ++i) open_shards_[i].store(nullptr);
  // Every record is checked now, so that a damaged index fails here, but none
  // is turned into an object: that waits for entries() or a read. A large
  // index is checked in two halves at once (the checks read nothing but the
  // table); the first error in record order is the one reported.
  const size_t n = table_->size();
  auto check = [this](size_t begin, size_t end, std::vector<std::string>* slice_keys) {
    std::vector<TensorSlice> slices;
    for (size_t i = begin; i < end; ++i) {
      slices.clear();
      absl::Status s = CheckRecord(table_->key(i), table_->value(i), &slices);
      if (!s.ok()) return s;
      for (const TensorSlice& sl : slices) {
        slice_keys->push_back(EncodeTensorNameSlice(table_->key(i), sl));
      }
    }
    return absl::OkStatus();
  };
  std::vector<std::string> keys_a, keys_b;
  static const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  if (n > kParallelCheckRecords && two_cpus) {
    const size_t mid = 1 + (n - 1) / 2;
    absl::Status second;
    std::thread helper([&] { second = check(mid, n, &keys_b); });
    absl::Status first = check(1, mid, &keys_a);
    helper.join();
    CKPT_RETURN_IF_ERROR(first);
    CKPT_RETURN_IF_ERROR(second);
  } else {
    CKPT_RETURN_IF_ERROR(check(1, n, &keys_a));
  }
  tensor_records_.resize(n - 1);
  for (size_t i = 1; i < n; ++i) tensor_records_[i - 1] = static_cast<uint32_t>(i);
  absl::flat_hash_set<std::string> slice_keys;
  for (auto* keys : {&keys_a, &keys_b}) {
    for (std::string& k : *keys) slice_keys.insert(std::move(k));
  }
  if (!slice_keys.empty()) {
    tensor_records_.erase(
        std::remove_if(tensor_records_.begin(), tensor_records_.end(),
                       [&](uint32_t i) { return slice_keys.count(table_->key(i)) > 0; }),
        tensor_records_.end());
  }
  // Open the data files now rather than at first read, so that a checkpoint
  // deleted after Open (a trainer's retention) still reads whole: an open
  // file outlives its name. Deleters remove the index first, so a data file
  // gone together with the index was deleted while we opened it; one missing
  // beside its index, or failing otherwise, is left for its first read to
  // report, as before.
  if (header_.num_shards() <= kMaxShardsOpenedAtOpen) {
    for (int32_t id = 0; id < header_.num_shards(); ++id) {
      absl::StatusOr<std::shared_ptr<Shard>> shard = GetShard(id);
      if (absl::IsNotFound(shard.status()) && !env_->FileExists(index_path)) {
        return absl::NotFoundError(absl::StrCat("checkpoint ", prefix_,
                                                " was deleted while being opened: ",
                                                shard.status().message()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status BundleReader::CheckRecord(absl::string_view key, absl::string_view value,
                                       std::vector<TensorSlice>* slices) const {
  PlainEntry p;
  if (DecodePlainEntry(value, &p)) {
    // ParseEntry's checks, without building anything. On any failure
    // ParseEntry itself says what is wrong, in its words.
    const DType dtype = static_cast<DType>(p.dtype);
    bool ok = DTypeIsKnown(dtype) && dtype != DT_INVALID && p.shard_id >= 0 &&
              p.shard_id < header_.num_shards() && p.offset >= 0 && p.size >= 0;
    int64_t n = 1;
    for (int k = 0; ok && k < p.rank; ++k) {
      ok = p.dims[k] >= 0 && !__builtin_mul_overflow(n, p.dims[k], &n);
    }
    if (ok) {
      const size_t width = DTypeSize(dtype);
      int64_t expected;
      if (width > 0) {
        ok = !__builtin_mul_overflow(n, static_cast<int64_t>(width), &expected) &&
             expected == p.size;
      } else if (dtype == DT_STRING) {
        ok = p.size >= n;
      }
    }
    if (ok) return absl::OkStatus();
  }
  CKPT_ASSIGN_OR_RETURN(BundleEntryInfo e, ParseEntry(key, value));
  *slices = std::move(e.slices);
  return absl::OkStatus();
}

const std::vector<BundleEntryInfo>& BundleReader::entries() const {
  std::call_once(entries_once_, [this] {
    entries_.reserve(tensor_records_.size());
    for (uint32_t i : tensor_records_) {
      absl::StatusOr<BundleEntryInfo> e = ParseEntry(table_->key(i), table_->value(i));
      // Open checked every record with the same code on the same bytes.
      if (e.ok()) entries_.push_back(*std::move(e));
    }
    entries_built_.store(true, std::memory_order_release);
  });
  return entries_;
}

absl::string_view BundleReader::tensor_name(size_t i) const {
  return table_->key(tensor_records_[i]);
}

absl::StatusOr<BundleEntryInfo> BundleReader::ParseEntry(absl::string_view key,
                                                         absl::string_view value) const {
  // Built only for an error (see entry_codec.h for why this path is lean).
  auto where = [&] {
    return absl::StrCat(IndexFilename(prefix_), ": entry for key ", Quote(key));
  };
  BundleEntryInfo e;
  e.name = std::string(key);
  // Nearly every record takes the direct decoder; partitioned tensors and
  // anything unusual go through protobuf.
  PlainEntry plain;
  if (DecodePlainEntry(value, &plain)) {
    if (!DTypeIsKnown(static_cast<DType>(plain.dtype)) || plain.dtype == DT_INVALID) {
      return absl::DataLossError(absl::StrCat(where(), " has unknown dtype ", plain.dtype));
    }
    e.dtype = static_cast<DType>(plain.dtype);
    absl::StatusOr<TensorShape> shape =
        TensorShape::FromDims(absl::MakeConstSpan(plain.dims, static_cast<size_t>(plain.rank)));
    if (!shape.ok()) return absl::DataLossError(absl::StrCat(where(), ": ", shape.status().message()));
    e.shape = *std::move(shape);
    e.shard_id = plain.shard_id;
    e.offset = plain.offset;
    e.size = plain.size;
    e.crc32c = plain.crc32c;
  } else {
    ::tensorflow::BundleEntryProto proto;
    if (!proto.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat(where(), " is not parseable"));
    }
    if (!DTypeIsKnown(proto.dtype()) || proto.dtype() == DT_INVALID) {
      return absl::DataLossError(absl::StrCat(where(), " has unknown dtype ", static_cast<int>(proto.dtype())));
    }
    e.dtype = proto.dtype();
    absl::StatusOr<TensorShape> shape = TensorShape::FromProto(proto.shape());
    if (!shape.ok()) {
      return absl::DataLossError(absl::StrCat(where(), ": ", shape.status().message()));
    }
    e.shape = *std::move(shape);
    e.shard_id = proto.shard_id();
    e.offset = proto.offset();
    e.size = proto.size();
    e.crc32c = proto.crc32c();
    for (const auto& sp : proto.slices()) {
      absl::StatusOr<TensorSlice> s = TensorSlice::FromProto(sp);
      if (!s.ok() || s->rank() != e.shape.rank() || !s->SliceShape(e.shape).ok()) {
        return absl::DataLossError(absl::StrCat(where(), ": invalid slice for shape ",
                                                e.shape.DebugString()));
      }
      e.slices.push_back(*std::move(s));
    }
    if (!e.slices.empty()) return e;  // the payloads live under the slice keys
  }
  if (e.shard_id < 0 || e.shard_id >= header_.num_shards()) {
    return absl::DataLossError(absl::StrCat(where(), ": shard ", e.shard_id, " is outside 0..",
                                            header_.num_shards() - 1));
  }
  if (e.offset < 0 || e.size < 0) {
    return absl::DataLossError(absl::StrCat(where(), ": negative offset or size"));
  }
  const int64_t n = e.shape.num_elements();
  const size_t width = DTypeSize(e.dtype);
  if (width > 0) {
    int64_t expected;
    if (__builtin_mul_overflow(n, static_cast<int64_t>(width), &expected) || expected != e.size) {
      return absl::DataLossError(absl::StrCat(
          where(), ": invalid size in bundle entry: ", DTypeName(e.dtype), e.shape.DebugString(),
          " needs ", n, " x ", width, " bytes, entry says ", e.size));
    }
  } else if (e.dtype == DT_STRING && e.size < n) {
    return absl::DataLossError(absl::StrCat(where(), ": invalid size in bundle entry: ", n,
                                            " strings in ", e.size, " bytes"));
  }
  return e;
}

absl::Status BundleReader::NotFound(absl::string_view name) const {
  // Offer the names closest to the one asked for.
  const size_t cap = std::max<size_t>(3, name.size() / 3);
  std::vector<std::pair<size_t, const std::string*>> near;
  for (const BundleEntryInfo& e : entries()) {
    size_t d = EditDistance(name, e.name, cap);
    bool related = absl::StrContains(e.name, name) ||
                   (!e.name.empty() && absl::StrContains(name, e.name));
    if (d <= cap || related) near.emplace_back(related ? std::min(d, cap) : d, &e.name);
  }
  std::sort(near.begin(), near.end(),
            [](const auto& a, const auto& b) { return a.first < b.first || (a.first == b.first && *a.second < *b.second); });
  std::string msg = absl::StrCat("tensor ", Quote(name), " not found in checkpoint ", prefix_);
  if (!near.empty()) {
    std::vector<std::string> names;
    for (size_t i = 0; i < near.size() && i < 5; ++i) names.push_back(Quote(*near[i].second));
    absl::StrAppend(&msg, "; did you mean ", absl::StrJoin(names, ", "), "?");
  } else {
    absl::StrAppend(&msg, " (", tensor_records_.size(), " tensors)");
  }
  return absl::NotFoundError(msg);
}

const BundleEntryInfo* BundleReader::FindEntry(absl::string_view name,
                                               BundleEntryInfo* scratch) const {
  const size_t n = tensor_records_.size();
  auto name_at = [&](size_t i) { return table_->key(tensor_records_[i]); };
  // The tensor after the last one found, or that one again; else a search.
  size_t found = n;
  const size_t hint = lookup_hint_.load(std::memory_order_relaxed);
  for (size_t i = hint; i < n && i <= hint + 1; ++i) {
    if (name_at(i) == name) {
      found = i;
      break;
    }
  }
  if (found == n) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (name_at(mid) < name) lo = mid + 1;
      else hi = mid;
    }
    if (lo == n || name_at(lo) != name) return nullptr;
    found = lo;
  }
  lookup_hint_.store(found, std::memory_order_relaxed);
  if (entries_built_.load(std::memory_order_acquire)) return &entries_[found];
  const uint32_t rec = tensor_records_[found];
  absl::StatusOr<BundleEntryInfo> e = ParseEntry(table_->key(rec), table_->value(rec));
  if (!e.ok()) return &entries()[found];  // cannot happen: Open checked this record
  *scratch = *std::move(e);
  return scratch;
}

absl::StatusOr<const BundleEntryInfo*> BundleReader::Lookup(absl::string_view name,
                                                            BundleEntryInfo* scratch) const {
  const BundleEntryInfo* e = FindEntry(name, scratch);
  if (e == nullptr) return NotFound(name);
  return e;
}

bool BundleReader::Contains(absl::string_view name) const {
  BundleEntryInfo scratch;
  return FindEntry(name, &scratch) != nullptr;
}

absl::StatusOr<BundleEntryInfo> BundleReader::GetEntry(absl::string_view name) const {
  BundleEntryInfo scratch;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* e, Lookup(name, &scratch));
  return *e;
}

absl::StatusOr<BundleEntryInfo> BundleReader::GetSliceEntry(absl::string_view name,
                                                             const TensorSlice& slice) const {
  CKPT_ASSIGN_OR_RETURN(BundleEntryInfo e, GetEntry(name));
  if (std::find(e.slices.begin(), e.slices.end(), slice) == e.slices.end()) {
    return absl::NotFoundError(absl::StrCat("tensor ", Quote(name), " in ", prefix_,
                                            " has no saved slice ", slice.ToString()));
  }
  return LookupKey(EncodeTensorNameSlice(name, slice));
}

absl::StatusOr<BundleEntryInfo> BundleReader::LookupKey(absl::string_view key) const {
  int64_t i = table_->Find(key);
  if (i <= 0) {
    return absl::DataLossError(absl::StrCat(IndexFilename(prefix_), ": record ", Quote(key),
                                            " named by a partitioned tensor is missing"));
  }
  return ParseEntry(table_->key(i), table_->value(i));
}

std::vector<std::string> BundleReader::RecordKeys() const {
  std::vector<std::string> keys;
  keys.reserve(table_->size());
  for (size_t i = 1; i < table_->size(); ++i) keys.emplace_back(table_->key(i));
  return keys;
}

absl::StatusOr<::tensorflow::BundleEntryProto> BundleReader::GetRecord(absl::string_view key) const {
  int64_t i = table_->Find(key);
  if (i <= 0) {
    return absl::NotFoundError(absl::StrCat("record ", Quote(key), " not found in ",
                                            IndexFilename(prefix_)));
  }
  ::tensorflow::BundleEntryProto proto;
  // Open() parsed and checked every record already.
  proto.ParseFromArray(table_->value(i).data(), static_cast<int>(table_->value(i).size()));
  return proto;
}

absl::StatusOr<std::shared_ptr<BundleReader::Shard>> BundleReader::GetShard(int32_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (id < 0 || id >= header_.num_shards()) {
    return absl::DataLossError(absl::StrCat(IndexFilename(prefix_), ": shard ", id,
                                            " is outside 0..", header_.num_shards() - 1));
  }
  auto it = shards_.find(id);
  if (it != shards_.end()) return it->second;
  const std::string path = DataFilename(prefix_, id, header_.num_shards());
  absl::StatusOr<std::unique_ptr<ReadOnlyFile>> f = env_->NewReadOnlyFile(path);
  if (!f.ok()) {
    if (absl::IsNotFound(f.status())) {
      return absl::NotFoundError(absl::StrCat("data file ", path, " of checkpoint ", prefix_,
                                              " does not exist"));
    }
    return f.status();
  }
  auto shard = std::make_shared<Shard>();
  shard->file = *std::move(f);
  shards_[id] = shard;
  if (static_cast<size_t>(id) < shard_slots_) {
    open_shards_[id].store(shard.get(), std::memory_order_release);
  }
  return shard;
}

absl::StatusOr<const BundleReader::Shard*> BundleReader::ShardFor(int32_t id) const {
  if (id >= 0 && static_cast<size_t>(id) < shard_slots_) {
    if (const Shard* s = open_shards_[id].load(std::memory_order_acquire)) return s;
  }
  CKPT_ASSIGN_OR_RETURN(std::shared_ptr<Shard> shard, GetShard(id));
  return shard.get();
}

// A record's shape and size are only the index's word: before anything is
// allocated for a payload, it must be seen to lie inside its data file.
absl::Status BundleReader::CheckPayloadInFile(const BundleEntryInfo& e) const {
  CKPT_ASSIGN_OR_RETURN(const Shard* shard, ShardFor(e.shard_id));
  const ReadOnlyFile& f = *shard->file;
  const uint64_t off = static_cast<uint64_t>(e.offset), size = static_cast<uint64_t>(e.size);
  if (off > f.size() || size > f.size() - off) {
    return absl::DataLossError(absl::StrCat(
        f.path(), ": tensor ", Quote(e.name), " at bytes [", off, ", ", off + size,
        ") runs past the end of the data file (", f.size(), " bytes); truncated?"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> BundleReader::AllocateChecked(const BundleEntryInfo& e,
                                                      const TensorSlice& request,
                                                      const TensorShape& shape) const {
  // Allocate only what the data files can back: a hostile index must not be
  // able to make us reserve memory for a tensor that is not there.
  uint64_t stored = 0;
  if (e.slices.empty()) {
    CKPT_RETURN_IF_ERROR(CheckPayloadInFile(e));
    stored = static_cast<uint64_t>(e.size);
  } else {
    for (const TensorSlice& saved : e.slices) {
      if (!saved.Intersect(request, nullptr)) continue;
      CKPT_ASSIGN_OR_RETURN(BundleEntryInfo part, LookupKey(EncodeTensorNameSlice(e.name, saved)));
      part.name = absl::StrCat(e.name, "[", saved.ToString(), "]");
      CKPT_RETURN_IF_ERROR(CheckPayloadInFile(part));
      stored += static_cast<uint64_t>(part.size);
    }
  }
  const uint64_t width = std::max<size_t>(DTypeSize(e.dtype), 1);  // strings: >= 1 byte each
  const uint64_t needed = static_cast<uint64_t>(shape.num_elements());
  if (e.slices.empty() ? false : needed > stored / width) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the saved slices of tensor ", Quote(e.name), " in ", prefix_,
        " do not cover the requested slice ", request.ToString()));
  }
  return Tensor::AllocateUninitialized(e.dtype, shape);
}

absl::StatusOr<absl::string_view> BundleReader::StoredBytes(const BundleEntryInfo& e,
                                                            std::shared_ptr<Shard>* shard,
                                                            std::string* scratch) const {
  CKPT_RETURN_IF_ERROR(CheckPayloadInFile(e));
  CKPT_ASSIGN_OR_RETURN(*shard, GetShard(e.shard_id));
  const ReadOnlyFile& f = *(*shard)->file;
  const uint64_t off = static_cast<uint64_t>(e.offset), size = static_cast<uint64_t>(e.size);
  if (f.mapped().data() != nullptr) return f.mapped().substr(off, size);
  scratch->resize(size);
  return f.Read(off, size, scratch->data());
}

absl::Status BundleReader::ReadPlainInto(const BundleEntryInfo& e, Tensor* out) const {
  std::shared_ptr<Shard> shard;
  if (e.dtype == DT_STRING) {
    const std::string path = DataFilename(prefix_, e.shard_id, header_.num_shards());
    std::string scratch;
    CKPT_ASSIGN_OR_RETURN(absl::string_view bytes, StoredBytes(e, &shard, &scratch));
    return DecodeStringTensor(bytes, e.shape.num_elements(),
                              header_.endianness() == ::tensorflow::BundleHeaderProto::BIG,
                              e.crc32c,
                              absl::StrCat(path, ": tensor ", Quote(e.name), " at bytes [",
                                           e.offset, ", ", e.offset + e.size, ")"),
                              out->mutable_strings());
  }
  if (DTypeSize(e.dtype) == 0) {
    return absl::UnimplementedError(absl::StrCat("tensor ", Quote(e.name), " in ", prefix_,
                                                 " has dtype ", DTypeName(e.dtype),
                                                 ", which ckpt lists but cannot decode"));
  }
  return ReadFixedInto(e, out->mutable_raw_data());
}

absl::Status BundleReader::ReadFixedInto(const BundleEntryInfo& e, char* dst) const {
  size_t unit = 1;
  if (foreign_) {
    absl::StatusOr<size_t> u = SwapUnitOrError(e.dtype);
    if (!u.ok()) {
      return absl::UnimplementedError(absl::StrCat("tensor ", Quote(e.name), " in ", prefix_,
                                                   ": ", u.status().message()));
    }
    unit = *u;
  }
  CKPT_RETURN_IF_ERROR(CheckPayloadInFile(e));
  CKPT_ASSIGN_OR_RETURN(const Shard* shard, ShardFor(e.shard_id));
  const ReadOnlyFile& f = *shard->file;
  const uint64_t off = static_cast<uint64_t>(e.offset), size = static_cast<uint64_t>(e.size);
  uint32_t crc = 0;
  if (size <= kSmallPayload && f.mapped().data() != nullptr) {
    // A small payload: one copy out of the mapping beats a system call.
    if (size > 0) std::memcpy(dst, f.mapped().data() + off, size);  // dst is null when empty
    crc = crc32c::Value(dst, size);
  } else {
    // Copied (not mapped: see ReadOnlyFile::ReadCopy) piece by piece, each
    // checksummed while still in cache.
    for (uint64_t i = 0; i < size; i += kChunk) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, size - i));
      CKPT_RETURN_IF_ERROR(f.ReadCopy(off + i, n, dst + i));
      crc = crc32c::Extend(crc, dst + i, n);
    }
  }
  if (crc32c::Mask(crc) != e.crc32c) return ChecksumMismatch(f.path(), e, crc32c::Mask(crc));
  if (unit > 1) SwapBytesInPlace(dst, size, unit);
  return absl::OkStatus();
}

absl::Status BundleReader::ReadSlicedInto(const BundleEntryInfo& e, const TensorSlice& request,
                                          Tensor* out) const {
  // Which elements of the request some saved slice provides.
  std::vector<char> covered(static_cast<size_t>(out->NumElements()), 0);
  for (const TensorSlice& saved : e.slices) {
    TensorSlice region;
    if (!saved.Intersect(request, &region)) continue;
    CKPT_ASSIGN_OR_RETURN(BundleEntryInfo part, LookupKey(EncodeTensorNameSlice(e.name, saved)));
    part.name = absl::StrCat(e.name, "[", saved.ToString(), "]");  // for messages
    CKPT_ASSIGN_OR_RETURN(TensorShape saved_shape, saved.SliceShape(e.shape));
    if (!part.slices.empty() || part.dtype != e.dtype || part.shape != saved_shape) {
      return absl::DataLossError(absl::StrCat(
          IndexFilename(prefix_), ": slice ", saved.ToString(), " of tensor ", Quote(e.name),
          " is stored as ", DTypeName(part.dtype), part.shape.DebugString(), ", expected ",
          DTypeName(e.dtype), saved_shape.DebugString()));
    }
    CKPT_ASSIGN_OR_RETURN(Tensor t, AllocateChecked(part, TensorSlice(part.shape.rank()), part.shape));
    CKPT_RETURN_IF_ERROR(ReadPlainInto(part, &t));
    CKPT_RETURN_IF_ERROR(CopySliceRegion(e.shape, t, saved, out, request, region));
    ForEachRegionRun(e.shape, saved, request, region, [&](int64_t, int64_t d, int64_t n) {
      std::memset(covered.data() + d, 1, static_cast<size_t>(n));
    });
  }
  if (std::find(covered.begin(), covered.end(), 0) != covered.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the saved slices of tensor ", Quote(e.name), " in ", prefix_,
        " do not cover the requested slice ", request.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> BundleReader::Read(absl::string_view name) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  const TensorSlice whole(e.shape.rank());
  CKPT_ASSIGN_OR_RETURN(Tensor t, AllocateChecked(e, whole, e.shape));
  if (e.slices.empty()) {
    CKPT_RETURN_IF_ERROR(ReadPlainInto(e, &t));
  } else {
    CKPT_RETURN_IF_ERROR(ReadSlicedInto(e, whole, &t));
  }
  return t;
}

absl::Status BundleReader::ReadInto(absl::string_view name, Tensor* out) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  if (out->dtype() != e.dtype || out->shape() != e.shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", Quote(name), " in ", prefix_, " is ", DTypeName(e.dtype),
        e.shape.DebugString(), ", but the destination is ", out->DebugString()));
  }
  if (out->is_view()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read tensor ", Quote(name),
                                                   " into a read-only view"));
  }
  if (e.slices.empty()) return ReadPlainInto(e, out);
  return ReadSlicedInto(e, TensorSlice(e.shape.rank()), out);
}

absl::Status BundleReader::ReadInto(absl::string_view name, void* buffer,
                                    size_t buffer_size) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  if (!e.slices.empty() || DTypeSize(e.dtype) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", Quote(name), " in ", prefix_, " (", DTypeName(e.dtype),
        e.slices.empty() ? "" : ", partitioned", ") cannot be read into a raw buffer"));
  }
  if (buffer_size != static_cast<uint64_t>(e.size)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quote(name), " in ", prefix_,
                                                   " needs ", e.size, " bytes, buffer has ",
                                                   buffer_size));
  }
  return ReadFixedInto(e, static_cast<char*>(buffer));
}

absl::StatusOr<Tensor> BundleReader::ReadView(absl::string_view name) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  const size_t width = DTypeSize(e.dtype);
  if (width == 0 || foreign_ || !e.slices.empty()) return Read(name);
  std::shared_ptr<Shard> shard;
  std::string scratch;
  CKPT_ASSIGN_OR_RETURN(absl::string_view bytes, StoredBytes(e, &shard, &scratch));
  const size_t align = std::min<size_t>(width, 8);
  if (bytes.data() == scratch.data() || reinterpret_cast<uintptr_t>(bytes.data()) % align != 0) {
    return Read(name);
  }
  // The bytes come straight from the page cache, not from a cache of the
  // CPU's: for a large view two cores read memory twice as fast as one.
  uint32_t crc = crc32c::ExtendParallel(0, bytes.data(), bytes.size());
  if (crc32c::Mask(crc) != e.crc32c) {
    return ChecksumMismatch(shard->file->path(), e, crc32c::Mask(crc));
  }
  // The view keeps its data file open; when the last copy of it goes, its
  // pages leave this process's resident memory (see ReleaseMapped).
  const uint64_t off = static_cast<uint64_t>(e.offset), size = static_cast<uint64_t>(e.size);
  std::shared_ptr<const void> keepalive(shard.get(), [shard, off, size](const void*) {
    shard->file->ReleaseMapped(off, size);
  });
  return Tensor::View(e.dtype, e.shape, bytes.data(), std::move(keepalive));
}

absl::StatusOr<Tensor> BundleReader::ReadSlice(absl::string_view name,
                                               const TensorSlice& slice) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  absl::StatusOr<TensorShape> shape = slice.SliceShape(e.shape);
  if (!shape.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("slice ", slice.ToString(), " of tensor ",
                                                   Quote(name), e.shape.DebugString(), ": ",
                                                   shape.status().message()));
  }
  CKPT_ASSIGN_OR_RETURN(Tensor out, AllocateChecked(e, slice, *shape));
  if (!e.slices.empty()) {
    CKPT_RETURN_IF_ERROR(ReadSlicedInto(e, slice, &out));
    return out;
  }
  CKPT_ASSIGN_OR_RETURN(Tensor whole, AllocateChecked(e, TensorSlice(e.shape.rank()), e.shape));
  CKPT_RETURN_IF_ERROR(ReadPlainInto(e, &whole));
  CKPT_RETURN_IF_ERROR(CopySliceRegion(e.shape, whole, TensorSlice(e.shape.rank()), &out,
                                       slice, slice));
  return out;
}

absl::StatusOr<std::string> BundleReader::ReadStoredBytes(absl::string_view name) const {
  BundleEntryInfo scratch_entry;
  CKPT_ASSIGN_OR_RETURN(const BundleEntryInfo* found, Lookup(name, &scratch_entry));
  const BundleEntryInfo& e = *found;
  if (!e.slices.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", Quote(name),
                                                   " is partitioned; read its slices"));
  }
  if (DTypeSize(e.dtype) == 0 && e.dtype != DT_STRING) {
    return absl::UnimplementedError(absl::StrCat("cannot verify dtype ", DTypeName(e.dtype)));
  }
  // Decoding verifies every checksum; then hand back the bytes as stored.
  CKPT_ASSIGN_OR_RETURN(Tensor t, AllocateChecked(e, TensorSlice(e.shape.rank()), e.shape));
  CKPT_RETURN_IF_ERROR(ReadPlainInto(e, &t));
  std::shared_ptr<Shard> shard;
  std::string scratch;
  CKPT_ASSIGN_OR_RETURN(absl::string_view bytes, StoredBytes(e, &shard, &scratch));
  return std::string(bytes);
}

}  // namespace ckpt
