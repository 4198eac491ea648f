// `.meta` files and saved_model.pb (FORMAT.md §8): binary protos read with
// hard limits on size and nesting, written deterministically and atomically.
#include "ckpt/meta_graph.h"

#include <climits>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ckpt/io/path.h"
#include "ckpt/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"

namespace ckpt {
namespace {

constexpr char kSavedModelTextFileName[] = "saved_model.pbtxt";

// Parses the whole of `path` as one `what` message. The size check comes
// before any read; the CodedInputStream's byte limit equals the file size and
// its recursion limit bounds the parser's stack however the bytes nest.
absl::Status ParseProtoFile(Env* env, const std::string& path, absl::string_view what,
                            google::protobuf::MessageLite* msg) {
  CKPT_ASSIGN_OR_RETURN(std::unique_ptr<ReadOnlyFile> file, env->NewReadOnlyFile(path));
  const uint64_t size = file->size();
  if (size > kMaxGraphFileBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": file is ", size, " bytes, more than the ", kMaxGraphFileBytes,
                     " accepted for a ", what));
  }
  if (size == 0) {
    return absl::DataLossError(absl::StrCat(path, ": empty file, not a ", what));
  }
  std::string scratch;
  absl::string_view bytes = file->mapped();
  if (bytes.data() == nullptr) {
    scratch.resize(size);
    CKPT_ASSIGN_OR_RETURN(bytes, file->Read(0, size, scratch.data()));
  }
  if (bytes.size() != size) {
    return absl::DataLossError(absl::StrCat(path, ": read ", bytes.size(), " of ", size,
                                            " bytes of a ", what));
  }

  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(size));
  in.SetRecursionLimit(kMaxGraphNestingDepth);
  in.SetTotalBytesLimit(static_cast<int>(size));
  if (!msg->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a ", what, " (malformed or truncated protobuf, or nested deeper than ",
        kMaxGraphNestingDepth, " levels)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<::tensorflow::MetaGraphDef> ReadMetaGraph(const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  ::tensorflow::MetaGraphDef meta_graph;
  CKPT_RETURN_IF_ERROR(ParseProtoFile(env, path, "MetaGraphDef", &meta_graph));
  return meta_graph;
}

absl::StatusOr<::tensorflow::SavedModel> ReadSavedModel(const std::string& dir_or_pb,
                                                        Env* env) {
  if (env == nullptr) env = Env::Default();
  std::string pb = dir_or_pb;
  if (env->IsDirectory(dir_or_pb)) {
    pb = JoinPath(dir_or_pb, kSavedModelFileName);
    if (!env->FileExists(pb)) {
      std::string pbtxt = JoinPath(dir_or_pb, kSavedModelTextFileName);
      if (env->FileExists(pbtxt)) {
        return absl::UnimplementedError(absl::StrCat(
            pbtxt, ": text-format SavedModel is not supported; expected ", pb));
      }
      return absl::NotFoundError(
          absl::StrCat(dir_or_pb, ": not a SavedModel directory: no ", kSavedModelFileName));
    }
  }
  ::tensorflow::SavedModel saved_model;
  CKPT_RETURN_IF_ERROR(ParseProtoFile(env, pb, "SavedModel", &saved_model));
  return saved_model;
}

absl::Status WriteMetaGraph(const std::string& path,
                            const ::tensorflow::MetaGraphDef& meta_graph, Env* env) {
  if (env == nullptr) env = Env::Default();
  const size_t size = meta_graph.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": MetaGraphDef of ", size, " bytes is too large to serialize (limit 2 GiB)"));
  }
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    // Sorts map entries by key, as TensorFlow's writer does.
    out.SetSerializationDeterministic(true);
    meta_graph.SerializeWithCachedSizes(&out);
    if (out.HadError()) {
      return absl::InternalError(absl::StrCat(path, ": serializing the MetaGraphDef failed"));
    }
  }
  return WriteFileAtomically(env, path, bytes);
}

std::string SavedModelVariablesPrefix(const std::string& saved_model_dir) {
  return JoinPath(JoinPath(saved_model_dir, kSavedModelVariablesDir),
                  kSavedModelVariablesBaseName);
}

}  // namespace ckpt
