// Writes the seed corpora of the fuzz targets, using the library itself.
//
//   ckpt_fuzz_seeds OUT_DIR [TF_CORPUS_DIR EXTRA_OUT_DIR]
//
// OUT_DIR/<target>/ gets seeds made from checkpoints that BundleWriter writes
// here (many dtypes, strings, a partitioned tensor, big-endian data, 64-byte
// alignment), checkpoint state texts, graph files written by our own
// writers, and `.meta` files of graphs built and saved with the runtime.
// With TF_CORPUS_DIR, files TensorFlow wrote (.index + data, .meta,
// saved_model.pb, checkpoint) are also packed into EXTRA_OUT_DIR/<target>/:
// they are used at run time only and never become part of the repository.
//
// Each seed is packed in its target's input format (see the header comment
// of each fuzz/*_fuzzer.cc). Seeds are named after their content's origin,
// so rerunning overwrites rather than accumulates.
#include <sys/stat.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle/index_table.h"
#include "ckpt/bundle/slice_key.h"
#include "ckpt/bundle/string_codec.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/bundle_writer.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/crc32c.h"
#include "ckpt/env.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/io_ops.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/optimizers.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "common/npz.h"
#include "common/safetensors.h"
#include "common/tensor_source.h"
#include "saved_tensor_slice.pb.h"

namespace {

using ckpt::Tensor;
using ckpt::TensorShape;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "ckpt_fuzz_seeds: %s\n", what.c_str());
  std::exit(1);
}

void Check(const absl::Status& s) {
  if (!s.ok()) Die(s.ToString());
}

std::string ReadWholeFile(const std::string& path) {
  auto s = ckpt::ReadFileToString(ckpt::Env::Default(), path, uint64_t{1} << 30);
  if (!s.ok()) Die(s.status().ToString());
  return *s;
}

void WriteSeed(const std::string& dir, const std::string& target, const std::string& name,
               const std::string& bytes) {
  Check(ckpt::CreateDirRecursively(ckpt::Env::Default(), dir + "/" + target));
  std::ofstream out(dir + "/" + target + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Die("cannot write seed " + name);
}

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}

// A tensor whose bytes count up from `seed`, so that values differ per
// element and a misplaced slice shows.
Tensor Filled(ckpt::DType dtype, const TensorShape& shape, int seed) {
  Tensor t(dtype, shape);
  if (dtype == ckpt::DT_STRING) {
    auto* v = t.mutable_strings();
    for (size_t i = 0; i < v->size(); ++i) {
      (*v)[i] = i % 3 == 0 ? "" : std::string(i * 7 % 150, static_cast<char>('a' + i % 26));
    }
    return t;
  }
  if (dtype == ckpt::DT_BOOL) {
    for (size_t i = 0; i < t.TotalBytes(); ++i) t.mutable_raw_data()[i] = (i + seed) % 2;
    return t;
  }
  for (size_t i = 0; i < t.TotalBytes(); ++i) {
    t.mutable_raw_data()[i] = static_cast<char>(seed + i * 13);
  }
  return t;
}

struct Written {
  std::string name;
  std::string prefix;
  bool big_endian;
};

std::vector<Written> WriteCheckpoints(const std::string& work) {
  std::vector<Written> out;
  auto options = [](ckpt::ByteOrder order, int64_t alignment) {
    ckpt::BundleWriterOptions o;
    o.byte_order = order;
    o.data_alignment = alignment;
    o.sync = false;  // scratch data
    return o;
  };
  const std::vector<std::pair<ckpt::DType, TensorShape>> all_dtypes = {
      {ckpt::DT_FLOAT, TensorShape({2, 3})},   {ckpt::DT_DOUBLE, TensorShape({4})},
      {ckpt::DT_INT32, TensorShape({3})},      {ckpt::DT_INT64, TensorShape({})},
      {ckpt::DT_INT8, TensorShape({5})},       {ckpt::DT_UINT8, TensorShape({2, 2})},
      {ckpt::DT_INT16, TensorShape({3})},      {ckpt::DT_UINT16, TensorShape({3})},
      {ckpt::DT_UINT32, TensorShape({2})},     {ckpt::DT_UINT64, TensorShape({2})},
      {ckpt::DT_BOOL, TensorShape({4})},       {ckpt::DT_HALF, TensorShape({2, 2})},
      {ckpt::DT_BFLOAT16, TensorShape({3})},   {ckpt::DT_COMPLEX64, TensorShape({2})},
      {ckpt::DT_COMPLEX128, TensorShape({1})}, {ckpt::DT_STRING, TensorShape({5})},
      {ckpt::DT_STRING, TensorShape({})},      {ckpt::DT_FLOAT, TensorShape({0, 3})},
      {ckpt::DT_QINT8, TensorShape({2})},      {ckpt::DT_FLOAT8_E4M3FN, TensorShape({4})},
      {ckpt::DT_INT4, TensorShape({3})},
  };
  auto write_dtypes = [&](const std::string& name, ckpt::ByteOrder order, int64_t alignment) {
    const std::string prefix = work + "/" + name + "/model.ckpt";
    ckpt::BundleWriter w(prefix, options(order, alignment));
    int i = 0;
    for (const auto& [dtype, shape] : all_dtypes) {
      // float8 and 4-bit values have no defined byte swap: not writable big-endian.
      if (order == ckpt::ByteOrder::kBig && dtype != ckpt::DT_STRING &&
          ckpt::DTypeSwapUnit(dtype) == 0) {
        continue;
      }
      Check(w.Add(absl::StrCat("vars/", ckpt::DTypeName(dtype), "_", i), Filled(dtype, shape, i)));
      ++i;
    }
    Check(w.Add("global_step", Filled(ckpt::DT_INT64, TensorShape({}), 7)));
    Check(w.Finish());
    out.push_back({name, prefix, order == ckpt::ByteOrder::kBig});
  };
  write_dtypes("dtypes", ckpt::ByteOrder::kLittle, 1);
  write_dtypes("big_endian", ckpt::ByteOrder::kBig, 1);
  write_dtypes("aligned64", ckpt::ByteOrder::kLittle, 64);

  {  // partitioned tensors: by rows, by rows and columns, and strings
    const std::string prefix = work + "/partitioned/model.ckpt";
    ckpt::BundleWriter w(prefix, options(ckpt::ByteOrder::kLittle, 1));
    const TensorShape full({6, 4});
    for (const char* spec : {"0,3:-", "3,3:-"}) {
      auto s = ckpt::TensorSlice::Parse(spec);
      Check(s.status());
      Check(w.AddSlice("part/rows", full, *s, Filled(ckpt::DT_FLOAT, *s->SliceShape(full), 3)));
    }
    for (const char* spec : {"0,2:0,2", "0,2:2,2", "2,4:0,4"}) {
      auto s = ckpt::TensorSlice::Parse(spec);
      Check(s.status());
      Check(w.AddSlice("part/grid", full, *s, Filled(ckpt::DT_INT32, *s->SliceShape(full), 5)));
    }
    const TensorShape words({4});
    for (const char* spec : {"0,1", "1,3"}) {
      auto s = ckpt::TensorSlice::Parse(spec);
      Check(s.status());
      Check(w.AddSlice("part/words", words, *s, Filled(ckpt::DT_STRING, *s->SliceShape(words), 0)));
    }
    Check(w.Add("plain", Filled(ckpt::DT_FLOAT, TensorShape({3}), 1)));
    Check(w.Finish());
    out.push_back({"partitioned", prefix, false});
  }
  {  // enough names sharing prefixes for several restart points
    const std::string prefix = work + "/many/model.ckpt";
    ckpt::BundleWriter w(prefix, options(ckpt::ByteOrder::kLittle, 1));
    for (int i = 0; i < 40; ++i) {
      Check(w.Add(absl::StrCat("layer_", i / 4, "/kernel_", i % 4), Filled(ckpt::DT_FLOAT, TensorShape({1}), i)));
    }
    Check(w.Finish());
    out.push_back({"many", prefix, false});
  }
  {  // only the header record
    const std::string prefix = work + "/empty/model.ckpt";
    ckpt::BundleWriter w(prefix, options(ckpt::ByteOrder::kLittle, 1));
    Check(w.Finish());
    out.push_back({"empty", prefix, false});
  }
  return out;
}

// The bundle target's format: u32 index length (bit 31: unmapped, bit 30:
// repair checksums) | index | data.
std::string PackBundle(const std::string& index, const std::string& data, bool unmapped,
                       bool repair = false) {
  std::string s;
  PutU32(&s, static_cast<uint32_t>(index.size()) | (unmapped ? 0x80000000u : 0) |
                 (repair ? 0x40000000u : 0));
  return s + index + data;
}

std::string PackString(bool big_endian, bool round_trip, int64_t n, uint32_t crc,
                       const std::string& stored) {
  std::string s(1, static_cast<char>((big_endian ? 1 : 0) | (round_trip ? 2 : 0)));
  PutU64(&s, static_cast<uint64_t>(n));
  PutU32(&s, crc);
  return s + stored;
}

// Seeds for the bundle, index table and string targets from one checkpoint.
void SeedsFromCheckpoint(const std::string& dir, const std::string& name,
                         const std::string& prefix) {
  auto reader = ckpt::BundleReader::Open(prefix);
  if (!reader.ok()) {
    std::fprintf(stderr, "ckpt_fuzz_seeds: skipping %s: %s\n", prefix.c_str(),
                 reader.status().ToString().c_str());
    return;
  }
  const int shards = (*reader)->num_shards();
  const std::string index = ReadWholeFile(ckpt::IndexFilename(prefix));
  const std::string data_path = ckpt::DataFilename(prefix, 0, shards);
  const std::string data = ckpt::Env::Default()->FileExists(data_path) ? ReadWholeFile(data_path) : "";
  WriteSeed(dir, "bundle_fuzzer", name, PackBundle(index, data, false));
  WriteSeed(dir, "bundle_fuzzer", name + "-unmapped", PackBundle(index, data, true));
  WriteSeed(dir, "bundle_fuzzer", name + "-repair", PackBundle(index, data, false, true));
  WriteSeed(dir, "index_table_fuzzer", name, index);
  const bool big = (*reader)->header().endianness() == tensorflow::BundleHeaderProto::BIG;
  for (const std::string& key : (*reader)->RecordKeys()) {
    auto rec = (*reader)->GetRecord(key);
    if (!rec.ok() || rec->dtype() != ckpt::DT_STRING || rec->shard_id() != 0) continue;
    if (rec->offset() < 0 || rec->size() < 0 ||
        static_cast<uint64_t>(rec->offset()) + rec->size() > data.size()) {
      continue;
    }
    auto shape = TensorShape::FromProto(rec->shape());
    if (!shape.ok()) continue;
    WriteSeed(dir, "string_tensor_fuzzer", absl::StrCat(name, "-", ckpt::crc32c::Value(key.data(), key.size())),
              PackString(big, false, shape->num_elements(), rec->crc32c(),
                         data.substr(rec->offset(), rec->size())));
  }
}

void StringSeeds(const std::string& dir) {
  const std::vector<std::vector<std::string>> sets = {
      {}, {""}, {"a"}, {"hello", "", "world"}, {std::string(300, 'x'), "y"},
      {std::string(1, '\0'), "\xff\xfe", "tail"}};
  int i = 0;
  for (const auto& elements : sets) {
    for (bool big : {false, true}) {
      std::string stored;
      uint32_t crc = 0;
      ckpt::EncodeStringHeader(elements, big, &stored, &crc);
      for (const std::string& e : elements) {
        stored += e;
        crc = ckpt::crc32c::Extend(crc, e.data(), e.size());
      }
      WriteSeed(dir, "string_tensor_fuzzer", absl::StrCat("encoded-", i, big ? "-be" : "-le"),
                PackString(big, false, static_cast<int64_t>(elements.size()),
                           ckpt::crc32c::Mask(crc), stored));
    }
    ++i;
  }
  WriteSeed(dir, "string_tensor_fuzzer", "roundtrip",
            PackString(false, true, 0, 0, "alpha\xff\xff" "beta\xffgamma"));
}

void StateSeeds(const std::string& dir, const std::string& work) {
  std::vector<tensorflow::CheckpointState> states(5);
  states[0].set_model_checkpoint_path("model.ckpt-100");
  states[0].add_all_model_checkpoint_paths("model.ckpt-100");
  states[1].set_model_checkpoint_path("/abs/run/model.ckpt-3");
  for (int i = 1; i <= 3; ++i) {
    states[1].add_all_model_checkpoint_paths(absl::StrCat("/abs/run/model.ckpt-", i));
    states[1].add_all_model_checkpoint_timestamps(1734403149.123456 + i);
  }
  states[1].set_last_preserved_timestamp(1734400000.5);
  states[2].set_model_checkpoint_path("caf\xc3\xa9/\"quoted\"\t'x'\\n\n\x01");
  states[2].add_all_model_checkpoint_timestamps(1e-05);
  states[2].add_all_model_checkpoint_timestamps(1e16);
  states[2].add_all_model_checkpoint_timestamps(std::nan(""));
  states[2].add_all_model_checkpoint_timestamps(-std::numeric_limits<double>::infinity());
  states[2].set_last_preserved_timestamp(-0.0);
  states[3].set_model_checkpoint_path("ckpt");
  states[3].add_all_model_checkpoint_timestamps(5e-324);
  states[3].add_all_model_checkpoint_timestamps(1.7976931348623157e308);
  for (size_t i = 0; i < states.size(); ++i) {
    WriteSeed(dir, "checkpoint_state_fuzzer", absl::StrCat("state-", i),
              ckpt::FormatCheckpointState(states[i]));
  }
  // The written file, through the writer's own path handling.
  const std::string state_dir = work + "/state";
  Check(ckpt::CreateDirRecursively(ckpt::Env::Default(), state_dir));
  Check(ckpt::WriteCheckpointState(ckpt::Env::Default(), state_dir, states[1]));
  WriteSeed(dir, "checkpoint_state_fuzzer", "written", ReadWholeFile(state_dir + "/checkpoint"));
  // Spellings the text format allows and the formatter never writes.
  WriteSeed(dir, "checkpoint_state_fuzzer", "text-variants",
            "# a comment\nmodel_checkpoint_path: 'single'\n"
            "all_model_checkpoint_paths: [\"a\", \"b\"]\n"
            "all_model_checkpoint_timestamps: 1.5e3 all_model_checkpoint_timestamps: -inf;\n"
            "last_preserved_timestamp: 0x10\n");
}

void MetaGraphSeeds(const std::string& dir, const std::string& work) {
  tensorflow::MetaGraphDef mg;
  auto* info = mg.mutable_meta_info_def();
  info->set_meta_graph_version("v1.0");
  info->add_tags("serve");
  info->set_tensorflow_version("2.15.0");
  (*info->mutable_function_aliases())["f"] = "g";
  auto* op = info->mutable_stripped_op_list()->add_op();
  op->set_name("VariableV2");
  op->add_output_arg()->set_name("ref");
  auto* node = mg.mutable_graph_def()->add_node();
  node->set_name("w");
  node->set_op("VariableV2");
  (*node->mutable_attr())["dtype"].set_type(ckpt::DT_FLOAT);
  auto* shape = (*node->mutable_attr())["shape"].mutable_shape();
  shape->add_dim()->set_size(2);
  shape->add_dim()->set_size(3);
  auto* save = mg.mutable_graph_def()->add_node();
  save->set_name("save/SaveV2");
  save->set_op("SaveV2");
  save->add_input("save/Const");
  save->add_input("w");
  (*save->mutable_attr())["dtypes"].mutable_list()->add_type(ckpt::DT_FLOAT);
  auto* saver = mg.mutable_saver_def();
  saver->set_filename_tensor_name("save/Const:0");
  saver->set_save_tensor_name("save/control_dependency:0");
  saver->set_restore_op_name("save/restore_all");
  saver->set_max_to_keep(5);
  saver->set_keep_checkpoint_every_n_hours(10000.0f);
  saver->set_version(tensorflow::SaverDef::V2);
  (*mg.mutable_collection_def())["variables"].mutable_bytes_list()->add_value("\n\x03w:0");
  (*mg.mutable_collection_def())["train_op"].mutable_node_list()->add_value("train");
  (*mg.mutable_collection_def())["steps"].mutable_int64_list()->add_value(42);
  (*mg.mutable_collection_def())["rates"].mutable_float_list()->add_value(0.5f);
  auto& sig = (*mg.mutable_signature_def())["serving_default"];
  sig.set_method_name("tensorflow/serving/predict");
  sig.mutable_inputs()->operator[]("x").set_name("x:0");
  sig.mutable_outputs()->operator[]("y").set_dtype(ckpt::DT_FLOAT);
  mg.add_asset_file_def()->set_filename("vocab.txt");

  const std::string meta = work + "/graph/model.ckpt.meta";
  Check(ckpt::CreateDirRecursively(ckpt::Env::Default(), work + "/graph"));
  Check(ckpt::WriteMetaGraph(meta, mg));
  WriteSeed(dir, "meta_graph_fuzzer", "meta", ReadWholeFile(meta));

  tensorflow::MetaGraphDef small;
  small.mutable_saver_def()->set_filename_tensor_name("save/Const:0");
  Check(ckpt::WriteMetaGraph(meta, small));
  WriteSeed(dir, "meta_graph_fuzzer", "meta-small", ReadWholeFile(meta));

  tensorflow::SavedModel sm;
  sm.set_saved_model_schema_version(1);
  *sm.add_meta_graphs() = mg;
  WriteSeed(dir, "meta_graph_fuzzer", "saved_model", sm.SerializeAsString());
}

// graph_import_fuzzer: `.meta` files of graphs built here with the runtime.
// "trained-*" are what a Saver writes after a training step (placeholders,
// gradients, an optimizer, the save/restore subgraph); "runnable" needs no
// feed, so the target runs its nodes (constants, shape-taking ops with
// constant shapes, a variable and its updates, strings).
void GraphImportSeeds(const std::string& dir, const std::string& work) {
  using namespace ckpt::ops;  // NOLINT: reads like the Python it mirrors
  const std::string meta_dir = work + "/graph_import";
  Check(ckpt::CreateDirRecursively(ckpt::Env::Default(), meta_dir));
  for (const char* optimizer : {"gradient_descent", "momentum", "adam"}) {
    ckpt::Graph graph;
    graph.set_seed(5);
    ckpt::Scope root = ckpt::Scope::NewRootScope(&graph);
    ckpt::Output x = Placeholder(root.WithOpName("x"), ckpt::DT_FLOAT, {-1, 3});
    ckpt::Output labels = Placeholder(root.WithOpName("labels"), ckpt::DT_FLOAT, {-1, 2});
    ckpt::Var w = Variable(root, TruncatedNormal(root, TensorShape({3, 2}), 0.0f, 0.1f));
    ckpt::Var b = Variable(root, Zeros(root, TensorShape({2})));
    ckpt::Output logits = Add(root, MatMul(root, x, w), b);
    ckpt::Output loss = ReduceMean(root, SoftmaxCrossEntropyWithLogits(root, labels, logits));
    ckpt::Output accuracy = ReduceMean(
        root, Cast(root, Equal(root, ArgMax(root, Softmax(root, logits), 1),
                               ArgMax(root, labels, 1)),
                   ckpt::DT_FLOAT));
    std::unique_ptr<ckpt::Optimizer> opt;
    if (std::string(optimizer) == "momentum") {
      opt = std::make_unique<ckpt::MomentumOptimizer>(0.1f, 0.9f);
    } else if (std::string(optimizer) == "adam") {
      opt = std::make_unique<ckpt::AdamOptimizer>(0.01f);
    } else {
      opt = std::make_unique<ckpt::GradientDescentOptimizer>(0.1f);
    }
    auto train = opt->Minimize(root, loss);
    Check(train.status());
    ckpt::Operation init = GlobalVariablesInitializer(root);
    Check(root.status());
    graph.AddToCollection("eval", accuracy.node()->name());
    auto saver = ckpt::Saver::Create(&graph);
    Check(saver.status());
    ckpt::Session session(&graph);
    Check(session.Run({}, {}, {init}).status());
    Tensor xs(ckpt::DT_FLOAT, TensorShape({2, 3}));
    Tensor ys(ckpt::DT_FLOAT, TensorShape({2, 2}));
    for (int i = 0; i < 6; ++i) xs.mutable_flat<float>()[i] = 0.25f * static_cast<float>(i);
    for (int i = 0; i < 4; ++i) ys.mutable_flat<float>()[i] = i == 0 || i == 3 ? 1.0f : 0.0f;
    Check(session.Run({{x, xs}, {labels, ys}}, {loss}, {*train}).status());
    auto path = (*saver)->Save(&session, meta_dir + "/" + optimizer + "/model.ckpt", 1);
    Check(path.status());
    WriteSeed(dir, "graph_import_fuzzer", absl::StrCat("trained-", optimizer),
              ReadWholeFile(ckpt::MetaFilename(*path)));
  }

  ckpt::Graph graph;
  ckpt::Scope root = ckpt::Scope::NewRootScope(&graph);
  ckpt::Output dims = Const(root, std::vector<int32_t>{2, 3});
  ckpt::Output filled = Fill(root, dims, Const(root, 1.5f));
  ckpt::Output noise = RandomUniform(root, TensorShape({2, 3}), -1.0f, 1.0f, /*seed=*/7);
  ckpt::Output sum = Add(root, filled, noise);
  ckpt::Output tiled = Tile(root, sum, Const(root, std::vector<int32_t>{2, 1}));
  ckpt::Output product = MatMul(root, tiled, Transpose(root, sum, Const(root, std::vector<int32_t>{1, 0})));
  ckpt::Output flat = Reshape(root, product, std::vector<int32_t>{-1});
  ckpt::Output joined = ConcatV2(root, {flat, Neg(root, flat)}, Const(root, 0));
  ckpt::Output packed = Pack(root, {ReduceMax(root, joined), ReduceSum(root, joined)});
  ckpt::Output probs = Softmax(root, Reshape(root, packed, std::vector<int32_t>{1, 2}));
  ckpt::Output best = ArgMax(root, probs, 1);
  Cast(root, Equal(root, best, Const(root, int64_t{0})), ckpt::DT_FLOAT);
  ckpt::Node* range =
      root.AddOp("Range", "range", {Const(root, 0), Const(root, 6), Const(root, 2)}, {});
  if (range != nullptr) {
    root.AddOp("OneHot", "one_hot",
               {ckpt::Output(range), Const(root, 4), Const(root, 1.0f), Const(root, 0.0f)}, {});
  }
  ckpt::Var v = Variable(root, Zeros(root, TensorShape({2, 3})));
  const ckpt::Scope initialized = root.WithControlDependencies({v.initializer()});
  AssignAdd(initialized, v.ref(), filled);
  ApplyGradientDescent(initialized, v.ref(), Const(root, 0.5f), noise);
  GlobalVariablesInitializer(root);
  StringJoin(root, {Const(root, "model"), Const(root, "ckpt")}, ".");
  Check(root.status());
  auto saver = ckpt::Saver::Create(&graph);
  Check(saver.status());
  auto mg = ckpt::ExportMetaGraph(graph, saver->get());
  Check(mg.status());
  WriteSeed(dir, "graph_import_fuzzer", "runnable", mg->SerializeAsString());
}

// V1 checkpoint files (a table of contents and one record per saved slice):
// a scalar, a tensor in two slices, strings, an empty tensor.
void V1Seeds(const std::string& dir, const std::string& work) {
  tensorflow::SavedTensorSlices head;
  head.mutable_meta()->mutable_versions()->set_producer(1);
  std::map<std::string, std::string> records;
  auto add = [&](const std::string& name, ckpt::DType dtype, std::vector<int64_t> dims,
                 const std::string& spec, const tensorflow::TensorProto& values) {
    tensorflow::SavedSliceMeta* m = nullptr;
    for (auto& t : *head.mutable_meta()->mutable_tensor()) {
      if (t.name() == name) m = &t;
    }
    if (m == nullptr) {
      m = head.mutable_meta()->add_tensor();
      m->set_name(name);
      m->set_type(dtype);
      for (int64_t d : dims) m->mutable_shape()->add_dim()->set_size(d);
    }
    auto slice = ckpt::TensorSlice::Parse(spec);
    Check(slice.status());
    slice->ToProto(m->add_slice());
    tensorflow::SavedTensorSlices r;
    r.mutable_data()->set_name(name);
    slice->ToProto(r.mutable_data()->mutable_slice());
    *r.mutable_data()->mutable_data() = values;
    records[ckpt::EncodeTensorNameSlice(name, *slice)] = r.SerializeAsString();
  };
  tensorflow::TensorProto v;
  v.add_float_val(0.5f);
  add("Variable", ckpt::DT_FLOAT, {}, "", v);
  v.Clear();
  for (int i = 0; i < 6; ++i) v.add_int64_val(i * 1000);
  add("w", ckpt::DT_INT64, {4, 3}, "0,2:-", v);
  add("w", ckpt::DT_INT64, {4, 3}, "2,2:-", v);
  v.Clear();
  v.add_string_val("ab");
  v.add_string_val("");
  add("words", ckpt::DT_STRING, {2}, "-", v);
  add("empty", ckpt::DT_HALF, {0, 2}, "-:-", tensorflow::TensorProto());
  const std::string path = work + "/v1.ckpt";
  auto file = ckpt::Env::Default()->NewWritableFile(path);
  Check(file.status());
  ckpt::IndexTableWriter writer(file->get());
  Check(writer.Add("", head.SerializeAsString()));
  for (const auto& [key, value] : records) Check(writer.Add(key, value));
  Check(writer.Finish());
  Check((*file)->Close());
  WriteSeed(dir, "v1_reader_fuzzer", "v1", ReadWholeFile(path));
}

// A file (without an extension) that ends in the table magic: a V1 checkpoint.
bool LooksLikeV1(const std::string& bytes) {
  static const char kMagic[] = "\x57\xfb\x80\x8b\x24\x75\x47\xdb";
  return bytes.size() >= 48 &&
         bytes.compare(bytes.size() - 8, 8, kMagic, 8) == 0;
}

// Files TensorFlow wrote, found below `root`.
void CorpusSeeds(const std::string& root, const std::string& dir) {
  ckpt::Env* env = ckpt::Env::Default();
  std::vector<std::string> stack = {root};
  int n = 0;
  while (!stack.empty()) {
    const std::string d = stack.back();
    stack.pop_back();
    auto children = env->GetChildren(d);
    if (!children.ok()) continue;
    for (const std::string& c : *children) {
      const std::string path = d + "/" + c;
      const std::string tag = absl::StrCat("tf-", n++);
      if (env->IsDirectory(path)) {
        stack.push_back(path);
      } else if (absl::EndsWith(c, ".index")) {
        SeedsFromCheckpoint(dir, tag, path.substr(0, path.size() - 6));
      } else if (absl::EndsWith(c, ".meta") || c == "saved_model.pb") {
        const std::string bytes = ReadWholeFile(path);
        WriteSeed(dir, "meta_graph_fuzzer", tag, bytes);
        if (absl::EndsWith(c, ".meta")) {
          WriteSeed(dir, "graph_import_fuzzer", tag, bytes);
        } else if (auto sm = ckpt::ReadSavedModel(path); sm.ok()) {
          for (int i = 0; i < sm->meta_graphs_size(); ++i) {
            WriteSeed(dir, "graph_import_fuzzer", absl::StrCat(tag, "-", i),
                      sm->meta_graphs(i).SerializeAsString());
          }
        }
      } else if (c == "checkpoint") {
        WriteSeed(dir, "checkpoint_state_fuzzer", tag, ReadWholeFile(path));
      } else if (c.find('.') == std::string::npos) {
        if (const std::string bytes = ReadWholeFile(path); LooksLikeV1(bytes)) {
          WriteSeed(dir, "v1_reader_fuzzer", tag, bytes);
        }
      }
    }
  }
}

}  // namespace

// convert_fuzzer: each checkpoint as .safetensors (first byte 0) and as
// .npz, stored and deflated (first byte 1), as ckpt_convert writes them.
void ConvertSeeds(const std::string& dir, const std::string& work, const Written& w) {
  auto src = ckpt::tools::OpenBundleSource(w.prefix);
  Check(src.status());
  ckpt::tools::SinkOptions options;
  options.warn = [](const std::string&) {};  // strings skipped in safetensors: expected
  const std::string st = work + "/" + w.name + ".safetensors";
  Check(ckpt::tools::WriteSafetensors(**src, st, options).status());
  WriteSeed(dir, "convert_fuzzer", w.name + "-st", std::string(1, '\0') + ReadWholeFile(st));
  for (bool compress : {false, true}) {
    options.compress = compress;
    const std::string npz = work + "/" + w.name + (compress ? "-z" : "") + ".npz";
    Check(ckpt::tools::WriteNpz(**src, npz, options).status());
    WriteSeed(dir, "convert_fuzzer", w.name + (compress ? "-npz-z" : "-npz"),
              std::string(1, '\1') + ReadWholeFile(npz));
  }
}

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: %s OUT_DIR [TF_CORPUS_DIR EXTRA_OUT_DIR]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::string work = dir + "/.work";
  for (const Written& w : WriteCheckpoints(work)) {
    SeedsFromCheckpoint(dir, w.name, w.prefix);
    if (!w.big_endian) ConvertSeeds(dir, work, w);
  }
  StringSeeds(dir);
  StateSeeds(dir, work);
  MetaGraphSeeds(dir, work);
  GraphImportSeeds(dir, work);
  V1Seeds(dir, work);
  if (argc == 4) CorpusSeeds(argv[2], argv[3]);
  return 0;
}
