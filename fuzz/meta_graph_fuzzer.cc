// Fuzzes the graph-file readers: the input is both a `.meta` file and a
// saved_model.pb, read through an in-memory Env.
//
// When it parses as a MetaGraphDef, WriteMetaGraph then ReadMetaGraph must
// give back the same message (compared by deterministic serialization, which
// covers unknown fields), and writing that again must give the same bytes:
// the writer's promise of a byte-for-byte round trip.
#include <cstdint>
#include <string>

#include "ckpt/meta_graph.h"
#include "fuzz_util.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "memory_env.h"

namespace {

std::string Deterministic(const google::protobuf::MessageLite& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ckpt::fuzz::SilenceProtobufLogging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Alternate between a mapped and a read-into-scratch file on a bit of the
  // input, so that both paths of the reader run.
  ckpt::fuzz::MemoryEnv env(/*map_files=*/size == 0 || (data[0] & 1) == 0);
  env.SetFile("/fuzz/model.ckpt.meta", bytes);
  env.SetFile("/fuzz/sm/saved_model.pb", bytes);

  absl::StatusOr<tensorflow::MetaGraphDef> mg = ckpt::ReadMetaGraph("/fuzz/model.ckpt.meta", &env);
  if (mg.ok()) {
    absl::Status w = ckpt::WriteMetaGraph("/fuzz/out/copy.meta", *mg, &env);
    FUZZ_CHECK(w.ok(), std::string(w.message()).c_str());
    absl::StatusOr<tensorflow::MetaGraphDef> back = ckpt::ReadMetaGraph("/fuzz/out/copy.meta", &env);
    // An empty message writes an empty file, which the reader refuses.
    if (mg->ByteSizeLong() == 0) {
      FUZZ_CHECK(!back.ok(), "an empty file was read as a MetaGraphDef");
    } else {
      FUZZ_CHECK(back.ok(), std::string(back.status().message()).c_str());
      FUZZ_CHECK(Deterministic(*back) == Deterministic(*mg), "write -> read changed the graph");
      const std::string first = *ckpt::ReadFileToString(&env, "/fuzz/out/copy.meta");
      FUZZ_CHECK(ckpt::WriteMetaGraph("/fuzz/out/again.meta", *back, &env).ok(), "rewrite");
      FUZZ_CHECK(*ckpt::ReadFileToString(&env, "/fuzz/out/again.meta") == first,
                 "writing the read-back graph gave other bytes");
    }
  } else {
    FUZZ_CHECK(absl::IsDataLoss(mg.status()), "meta graph error is not DataLoss");
  }

  // As a directory and as the .pb path itself.
  ckpt::ReadSavedModel("/fuzz/sm", &env).status().IgnoreError();
  absl::StatusOr<tensorflow::SavedModel> sm = ckpt::ReadSavedModel("/fuzz/sm/saved_model.pb", &env);
  if (!sm.ok()) FUZZ_CHECK(absl::IsDataLoss(sm.status()), "saved model error is not DataLoss");
  return 0;
}
