// `.meta` files, saved_model.pb and TF2 object graphs (FORMAT.md §8, §9):
// every TensorFlow-written graph file in the corpus parses with our schemas
// leaving nothing unknown outside the messages kept opaque on purpose, and
// is written back byte for byte (up to the order of map entries, see
// ExpectRoundTrip); hostile bytes give clean errors, never a crash.
#include "ckpt/meta_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/env.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"
#include "meta_graph.pb.h"
#include "saved_model.pb.h"
#include "trackable_object_graph.pb.h"
#include "util/test_util.h"
#include "variable.pb.h"

namespace ckpt {
namespace {

namespace fs = std::filesystem;
namespace pb = ::google::protobuf;
using ::ckpt::testing::ReadFile;
using ::ckpt::testing::ScratchDir;
using ::ckpt::testing::WriteFile;

// Declared empty in proto/ on purpose; whatever they hold stays unknown.
const std::set<std::string>& OpaqueMessages() {
  static const auto* names = new std::set<std::string>{
      "tensorflow.FunctionDefLibrary", "tensorflow.SavedObjectGraph",
      "tensorflow.GraphDebugInfo", "tensorflow.FullTypeDef", "tensorflow.TypeSpecProto"};
  return *names;
}

// Collections whose bytes_list elements are serialized VariableDefs.
bool IsVariableCollection(const std::string& name) {
  static const auto* names = new std::set<std::string>{
      "variables", "trainable_variables", "local_variables", "model_variables",
      "global_step", "moving_average_variables"};
  return names->count(name) > 0;
}

std::string SerializeDeterministic(const pb::Message& m) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

// Appends "<path> (<type>)" for every message under `m` (itself included)
// that holds unknown fields, not looking inside opaque messages. Descends into
// Any payloads whose type our schemas know, and into serialized VariableDefs
// in variable collections.
void CollectUnknownFields(const pb::Message& m, const std::string& path,
                          std::vector<std::string>* out) {
  const pb::Descriptor* d = m.GetDescriptor();
  if (OpaqueMessages().count(d->full_name())) return;
  const pb::Reflection* r = m.GetReflection();
  if (!r->GetUnknownFields(m).empty()) {
    out->push_back(absl::StrCat(path, " (", d->full_name(), ")"));
  }
  if (d->full_name() == "google.protobuf.Any") {
    const auto& any = static_cast<const pb::Any&>(m);
    const std::string type = any.type_url().substr(any.type_url().rfind('/') + 1);
    const pb::Descriptor* inner = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
    if (inner != nullptr) {
      std::unique_ptr<pb::Message> payload(
          pb::MessageFactory::generated_factory()->GetPrototype(inner)->New());
      if (!payload->ParseFromString(any.value())) {
        out->push_back(absl::StrCat(path, ".value: unparsable ", type));
      } else {
        CollectUnknownFields(*payload, absl::StrCat(path, ".value<", type, ">"), out);
      }
    }
  }
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0, n = r->FieldSize(m, f); i < n; ++i) {
        const pb::Message& child = r->GetRepeatedMessage(m, f, i);
        std::string child_path = absl::StrCat(path, ".", f->name(), "[", i, "]");
        if (f->is_map()) {
          const pb::FieldDescriptor* key = child.GetDescriptor()->map_key();
          if (key->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
            child_path = absl::StrCat(path, ".", f->name(), "[\"",
                                      child.GetReflection()->GetString(child, key), "\"]");
          }
        }
        CollectUnknownFields(child, child_path, out);
      }
    } else {
      CollectUnknownFields(r->GetMessage(m, f), absl::StrCat(path, ".", f->name()), out);
    }
  }
  if (d->full_name() == "tensorflow.MetaGraphDef") {
    const auto& mg = static_cast<const tensorflow::MetaGraphDef&>(m);
    for (const auto& [name, coll] : mg.collection_def()) {
      if (!IsVariableCollection(name) || !coll.has_bytes_list()) continue;
      for (int i = 0; i < coll.bytes_list().value_size(); ++i) {
        tensorflow::VariableDef v;
        const std::string vpath =
            absl::StrCat(path, ".collection_def[\"", name, "\"].bytes_list[", i, "]<VariableDef>");
        if (!v.ParseFromString(coll.bytes_list().value(i))) {
          out->push_back(absl::StrCat(vpath, ": unparsable"));
        } else {
          CollectUnknownFields(v, vpath, out);
        }
      }
    }
  }
}

std::vector<std::string> UnknownFields(const pb::Message& m) {
  std::vector<std::string> out;
  CollectUnknownFields(m, m.GetDescriptor()->name(), &out);
  return out;
}

// A length-delimited field: tag, length, payload.
std::string Wrap(int field, const std::string& payload) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.WriteTag(pb::internal::WireFormatLite::MakeTag(
        field, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(payload.size()));
  }
  return out + payload;
}

// `bytes` (a serialized `d`) with the entries of every map field, at every
// depth, sorted by key and moved to where that map's first entry was; all
// other bytes unchanged. This is what deterministic serialization does to a
// message written with maps in another order. Contents of opaque messages are
// left alone. Returns false if `bytes` is not well-formed wire format.
bool SortMapEntries(const std::string& bytes, const pb::Descriptor* d, std::string* out) {
  using WFL = pb::internal::WireFormatLite;
  struct Map {
    size_t slot;  // index in `pieces` of the placeholder for the sorted entries
    std::vector<std::pair<std::string, std::string>> entries;  // key, bytes
  };
  std::vector<std::string> pieces;
  std::map<int, Map> maps;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  in.SetRecursionLimit(1000);
  while (true) {
    const int start = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const pb::FieldDescriptor* f = d->FindFieldByNumber(WFL::GetTagFieldNumber(tag));
    const bool nested = f != nullptr &&
                        WFL::GetTagWireType(tag) == WFL::WIRETYPE_LENGTH_DELIMITED &&
                        f->type() == pb::FieldDescriptor::TYPE_MESSAGE &&
                        !OpaqueMessages().count(f->message_type()->full_name());
    if (!nested) {
      if (!WFL::SkipField(&in, tag)) return false;
      pieces.push_back(bytes.substr(start, in.CurrentPosition() - start));
      continue;
    }
    uint32_t len;
    if (!in.ReadVarint32(&len)) return false;
    const size_t pos = static_cast<size_t>(in.CurrentPosition());
    if (len > bytes.size() - pos) return false;
    const std::string payload = bytes.substr(pos, len);
    if (!in.Skip(static_cast<int>(len))) return false;
    std::string sorted;
    if (!SortMapEntries(payload, f->message_type(), &sorted)) return false;
    std::string piece = Wrap(f->number(), sorted);
    if (!f->is_map()) {
      pieces.push_back(std::move(piece));
      continue;
    }
    // The key of a map entry is its field 1 (all our maps have string keys).
    std::string key;
    pb::io::CodedInputStream entry(reinterpret_cast<const uint8_t*>(sorted.data()),
                                   static_cast<int>(sorted.size()));
    while (uint32_t t = entry.ReadTag()) {
      if (t == WFL::MakeTag(1, WFL::WIRETYPE_LENGTH_DELIMITED)) {
        if (!WFL::ReadString(&entry, &key)) return false;
      } else if (!WFL::SkipField(&entry, t)) {
        return false;
      }
    }
    auto [it, first] = maps.try_emplace(f->number());
    if (first) {
      it->second.slot = pieces.size();
      pieces.emplace_back();
    }
    it->second.entries.emplace_back(std::move(key), std::move(piece));
  }
  if (!in.ConsumedEntireMessage()) return false;
  for (auto& [number, map] : maps) {
    std::stable_sort(map.entries.begin(), map.entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& e : map.entries) pieces[map.slot] += e.second;
  }
  out->clear();
  for (const std::string& p : pieces) *out += p;
  return true;
}

// Every .meta and saved_model.pb in the corpus, sorted.
std::vector<std::string> CorpusGraphFiles(const std::string& corpus) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(corpus)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (absl::EndsWith(name, ".meta") || name == kSavedModelFileName) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A MetaGraphDef whose one node has an attr nested `levels` times through
// AttrValue.list.func.attr (4 message levels each), built as raw bytes so
// that nothing but the parser under test recurses.
std::string NestedAttrMetaGraph(int levels) {
  std::string attr_value;  // innermost: an empty AttrValue
  for (int i = 0; i < levels; ++i) {
    const std::string entry = Wrap(1, "k") + Wrap(2, attr_value);  // map entry
    const std::string name_attr_list = Wrap(2, entry);             // NameAttrList.attr
    const std::string list_value = Wrap(9, name_attr_list);        // ListValue.func
    attr_value = Wrap(1, list_value);                               // AttrValue.list
  }
  const std::string node = Wrap(1, "n") + Wrap(5, Wrap(1, "a") + Wrap(2, attr_value));
  return Wrap(2, Wrap(1, node));  // MetaGraphDef.graph_def.node
}

// Offsets at which the top-level fields of a serialized message end.
std::set<size_t> TopLevelFieldEnds(const std::string& bytes) {
  std::set<size_t> ends;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  while (uint32_t tag = in.ReadTag()) {
    if (!pb::internal::WireFormatLite::SkipField(&in, tag)) break;
    ends.insert(static_cast<size_t>(in.CurrentPosition()));
  }
  return ends;
}

// ---------------------------------------------------------------------------
// Corpus

// Why the round trip compares with the file's map entries sorted rather than
// with the file itself: TensorFlow wrote these files (TF 1.1 and 1.14) with a
// plain SerializeToString(), which emits map entries in insertion order
// (NodeDef.attr as "value", "dtype", "_output_shapes"); only later versions
// write graphs with SerializeToString(deterministic=True), i.e. maps sorted
// by key, as WriteMetaGraph does. Map order carries no meaning. Every other
// byte must come back unchanged, and a file already in sorted order must come
// back verbatim.
void ExpectRoundTrip(const std::string& original, const pb::Message& parsed,
                     const std::string& written) {
  std::string sorted;
  ASSERT_TRUE(SortMapEntries(original, parsed.GetDescriptor(), &sorted));
  EXPECT_EQ(sorted.size(), original.size());
  EXPECT_TRUE(written == sorted) << "re-serialized bytes differ beyond map order";
  // The map sort above agrees with protobuf's own on protobuf's output.
  std::string resorted;
  ASSERT_TRUE(SortMapEntries(written, parsed.GetDescriptor(), &resorted));
  EXPECT_TRUE(resorted == written);
}

TEST(MetaGraphCorpusTest, EveryGraphFileParsesFullyAndRoundTrips) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::vector<std::string> files = CorpusGraphFiles(corpus);
  ASSERT_FALSE(files.empty()) << "corpus holds no .meta or saved_model.pb";
  ScratchDir scratch;
  int metas = 0, saved_models = 0;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const std::string original = ReadFile(path);
    if (absl::EndsWith(path, ".meta")) {
      ++metas;
      auto mg = ReadMetaGraph(path);
      ASSERT_TRUE(mg.ok()) << mg.status();
      EXPECT_GT(mg->graph_def().node_size(), 0);
      EXPECT_TRUE(mg->has_saver_def());
      EXPECT_EQ(UnknownFields(*mg), std::vector<std::string>{});
      // Through the public writer.
      const std::string copy = scratch.Join(absl::StrCat("copy", metas, ".meta"));
      ASSERT_TRUE(WriteMetaGraph(copy, *mg).ok());
      ExpectRoundTrip(original, *mg, ReadFile(copy));
    } else {
      ++saved_models;
      auto sm = ReadSavedModel(path);
      ASSERT_TRUE(sm.ok()) << sm.status();
      EXPECT_EQ(sm->saved_model_schema_version(), 1);
      ASSERT_GT(sm->meta_graphs_size(), 0);
      EXPECT_EQ(UnknownFields(*sm), std::vector<std::string>{});
      ExpectRoundTrip(original, *sm, SerializeDeterministic(*sm));
    }
  }
  EXPECT_GT(metas, 0);
  EXPECT_GT(saved_models, 0);
}

TEST(MetaGraphCorpusTest, UdacitySaverAndVariables) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto mg = ReadMetaGraph(corpus + "/udacity_save_restore/model.ckpt.meta");
  ASSERT_TRUE(mg.ok()) << mg.status();
  const tensorflow::SaverDef& saver = mg->saver_def();
  EXPECT_EQ(saver.filename_tensor_name(), "save/Const:0");
  EXPECT_EQ(saver.save_tensor_name(), "save/control_dependency:0");
  EXPECT_EQ(saver.restore_op_name(), "save/restore_all");
  EXPECT_EQ(saver.max_to_keep(), 5);
  EXPECT_EQ(saver.keep_checkpoint_every_n_hours(), 10000.0f);
  EXPECT_FALSE(saver.sharded());
  EXPECT_EQ(saver.version(), tensorflow::SaverDef::V2);
  EXPECT_EQ(mg->meta_info_def().tensorflow_version(), "1.1.0");

  ASSERT_EQ(mg->collection_def().count("trainable_variables"), 1u);
  const tensorflow::CollectionDef& coll = mg->collection_def().at("trainable_variables");
  ASSERT_EQ(coll.kind_case(), tensorflow::CollectionDef::kBytesList);
  std::vector<std::string> names;
  for (const std::string& bytes : coll.bytes_list().value()) {
    tensorflow::VariableDef v;
    ASSERT_TRUE(v.ParseFromString(bytes));
    names.push_back(v.variable_name());
    const std::string op = v.variable_name().substr(0, v.variable_name().find(':'));
    EXPECT_EQ(v.initializer_name(), op + "/Assign");
    EXPECT_EQ(v.snapshot_name(), op + "/read:0");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"weights_0:0", "bias_0:0"}));

  // The Saver's nodes are in the graph.
  std::set<std::string> nodes;
  for (const auto& n : mg->graph_def().node()) nodes.insert(n.name());
  EXPECT_TRUE(nodes.count("save/Const"));
  EXPECT_TRUE(nodes.count("save/SaveV2"));
  EXPECT_TRUE(nodes.count("save/restore_all"));
  // Stripped op list names every op used.
  std::set<std::string> ops;
  for (const auto& op : mg->meta_info_def().stripped_op_list().op()) ops.insert(op.name());
  for (const auto& n : mg->graph_def().node()) EXPECT_TRUE(ops.count(n.op())) << n.op();
}

TEST(MetaGraphCorpusTest, V1SaverLeavesVersionLegacy) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto mg = ReadMetaGraph(corpus + "/v1_half_plus_two/export.meta");
  ASSERT_TRUE(mg.ok()) << mg.status();
  EXPECT_EQ(mg->saver_def().version(), tensorflow::SaverDef::LEGACY);
  EXPECT_EQ(mg->saver_def().restore_op_name(), "save/restore_all");
}

TEST(MetaGraphCorpusTest, SavedModelHalfPlusTwoSignatures) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string dir = corpus + "/saved_model_half_plus_two";
  auto sm = ReadSavedModel(dir);
  ASSERT_TRUE(sm.ok()) << sm.status();
  auto by_pb = ReadSavedModel(dir + "/saved_model.pb");
  ASSERT_TRUE(by_pb.ok()) << by_pb.status();
  EXPECT_EQ(SerializeDeterministic(*by_pb), SerializeDeterministic(*sm));

  ASSERT_EQ(sm->meta_graphs_size(), 1);
  const tensorflow::MetaGraphDef& mg = sm->meta_graphs(0);
  EXPECT_EQ(std::vector<std::string>(mg.meta_info_def().tags().begin(),
                                     mg.meta_info_def().tags().end()),
            std::vector<std::string>{"serve"});
  EXPECT_EQ(mg.meta_info_def().tensorflow_version(), "1.14.0");
  EXPECT_TRUE(mg.saver_def().sharded());
  EXPECT_EQ(mg.saver_def().save_tensor_name(), "save/Identity:0");

  std::vector<std::string> keys;
  for (const auto& [k, v] : mg.signature_def()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"classify_x_to_y", "regress_x2_to_y3",
                                            "regress_x_to_y", "regress_x_to_y2",
                                            "serving_default"}));
  const tensorflow::SignatureDef& sig = mg.signature_def().at("serving_default");
  EXPECT_EQ(sig.method_name(), "tensorflow/serving/predict");
  ASSERT_EQ(sig.inputs().count("x"), 1u);
  ASSERT_EQ(sig.outputs().count("y"), 1u);
  const tensorflow::TensorInfo& x = sig.inputs().at("x");
  EXPECT_EQ(x.encoding_case(), tensorflow::TensorInfo::kName);
  EXPECT_EQ(x.name(), "x:0");
  EXPECT_EQ(x.dtype(), tensorflow::DT_FLOAT);
  ASSERT_EQ(x.tensor_shape().dim_size(), 2);
  EXPECT_EQ(x.tensor_shape().dim(0).size(), -1);
  EXPECT_EQ(x.tensor_shape().dim(1).size(), 1);
  EXPECT_EQ(sig.outputs().at("y").name(), "y:0");
  const tensorflow::TensorInfo& ex = mg.signature_def().at("classify_x_to_y").inputs().at("inputs");
  EXPECT_EQ(ex.dtype(), tensorflow::DT_STRING);
  EXPECT_TRUE(ex.tensor_shape().unknown_rank());

  // The asset collection holds an AssetFileDef packed in an Any.
  const tensorflow::CollectionDef& assets = mg.collection_def().at("saved_model_assets");
  ASSERT_EQ(assets.kind_case(), tensorflow::CollectionDef::kAnyList);
  ASSERT_EQ(assets.any_list().value_size(), 1);
  tensorflow::AssetFileDef asset;
  ASSERT_TRUE(assets.any_list().value(0).UnpackTo(&asset));
  EXPECT_EQ(asset.filename(), "foo.txt");
  EXPECT_EQ(asset.tensor_info().name(), "Const:0");

  // The variables live in a V2 bundle at the conventional prefix.
  const std::string prefix = SavedModelVariablesPrefix(dir);
  EXPECT_EQ(prefix, dir + "/variables/variables");
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (const std::string& bytes : mg.collection_def().at("variables").bytes_list().value()) {
    tensorflow::VariableDef v;
    ASSERT_TRUE(v.ParseFromString(bytes));
    EXPECT_TRUE(v.trainable());
    const std::string key = v.variable_name().substr(0, v.variable_name().find(':'));
    EXPECT_TRUE((*reader)->Read(key).ok()) << key;
  }
}

TEST(MetaGraphCorpusTest, Tf2ObjectGraphParses) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto reader = BundleReader::Open(corpus + "/tf2_object_graph/ckpt-1");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto tensor = (*reader)->Read("_CHECKPOINTABLE_OBJECT_GRAPH");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  ASSERT_EQ(tensor->strings().size(), 1u);
  const std::string& bytes = tensor->strings()[0];

  tensorflow::TrackableObjectGraph graph;
  ASSERT_TRUE(graph.ParseFromString(bytes));
  EXPECT_EQ(UnknownFields(graph), std::vector<std::string>{});
  EXPECT_TRUE(SerializeDeterministic(graph) == bytes) << "re-serialized bytes differ";
  ASSERT_GT(graph.nodes_size(), 1);
  EXPECT_GT(graph.nodes(0).children_size(), 0);

  bool found_save_counter = false;
  for (const auto& node : graph.nodes()) {
    for (const auto& child : node.children()) {
      EXPECT_GE(child.node_id(), 0);
      EXPECT_LT(child.node_id(), graph.nodes_size());
    }
    for (const auto& attr : node.attributes()) {
      // Every attribute names a tensor that is in the checkpoint.
      EXPECT_TRUE((*reader)->Contains(attr.checkpoint_key())) << attr.checkpoint_key();
      if (attr.checkpoint_key() == "save_counter/.ATTRIBUTES/VARIABLE_VALUE") {
        found_save_counter = true;
        EXPECT_EQ(attr.name(), "VARIABLE_VALUE");
      }
    }
  }
  EXPECT_TRUE(found_save_counter);
}

// ---------------------------------------------------------------------------
// API

TEST(MetaGraphTest, WriteThenReadIsDeterministic) {
  ScratchDir scratch;
  tensorflow::MetaGraphDef mg;
  mg.mutable_meta_info_def()->set_tensorflow_version("2.15.0");
  mg.mutable_saver_def()->set_filename_tensor_name("save/Const:0");
  mg.mutable_saver_def()->set_version(tensorflow::SaverDef::V2);
  tensorflow::NodeDef* node = mg.mutable_graph_def()->add_node();
  node->set_name("n");
  for (const char* name : {"zeta", "alpha", "mid", "beta"}) {
    (*node->mutable_attr())[name].set_i(7);
  }
  const std::string a = scratch.Join("a.meta"), b = scratch.Join("b.meta");
  ASSERT_TRUE(WriteMetaGraph(a, mg).ok());
  auto back = ReadMetaGraph(a);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(WriteMetaGraph(b, *back).ok());
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  EXPECT_EQ(ReadFile(a), SerializeDeterministic(mg));
  // Map entries are sorted by key: "alpha" comes first in the file.
  const std::string bytes = ReadFile(a);
  EXPECT_LT(bytes.find("alpha"), bytes.find("beta"));
  EXPECT_LT(bytes.find("mid"), bytes.find("zeta"));
  // No temporary file is left behind.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(scratch.path())) ++entries, (void)e;
  EXPECT_EQ(entries, 2);
}

TEST(MetaGraphTest, OpaqueMessagesKeepTheirContents) {
  // A FunctionDefLibrary with one FunctionDef (field 1) holding a signature
  // (field 1) named "f": unknown to our schema, kept and written back.
  const std::string library = Wrap(1, Wrap(1, Wrap(1, "f")));
  const std::string bytes = Wrap(2, Wrap(2, library));  // MetaGraphDef.graph_def.library
  ScratchDir scratch;
  WriteFile(scratch.Join("in.meta"), bytes);
  auto mg = ReadMetaGraph(scratch.Join("in.meta"));
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_TRUE(mg->graph_def().has_library());
  EXPECT_FALSE(mg->graph_def().library().GetReflection()->GetUnknownFields(
      mg->graph_def().library()).empty());
  ASSERT_TRUE(WriteMetaGraph(scratch.Join("out.meta"), *mg).ok());
  EXPECT_EQ(ReadFile(scratch.Join("out.meta")), bytes);
}

TEST(MetaGraphTest, SavedModelVariablesPrefix) {
  EXPECT_EQ(SavedModelVariablesPrefix("/m/1"), "/m/1/variables/variables");
  EXPECT_EQ(SavedModelVariablesPrefix("/m/1/"), "/m/1/variables/variables");
  EXPECT_EQ(SavedModelVariablesPrefix("m"), "m/variables/variables");
}

TEST(MetaGraphTest, MissingFilesAreNotFound) {
  ScratchDir scratch;
  auto mg = ReadMetaGraph(scratch.Join("nope.meta"));
  ASSERT_FALSE(mg.ok());
  EXPECT_EQ(mg.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(mg.status().message(), "nope.meta")) << mg.status();

  auto sm = ReadSavedModel(scratch.path());
  ASSERT_FALSE(sm.ok());
  EXPECT_EQ(sm.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(sm.status().message(), "saved_model.pb")) << sm.status();

  WriteFile(scratch.Join("saved_model.pbtxt"), "saved_model_schema_version: 1\n");
  sm = ReadSavedModel(scratch.path());
  ASSERT_FALSE(sm.ok());
  EXPECT_EQ(sm.status().code(), absl::StatusCode::kUnimplemented) << sm.status();
}

// ---------------------------------------------------------------------------
// Hostile input

void ExpectDataLoss(const absl::Status& s, const std::string& file, const std::string& what) {
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), file)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "not a " + what)) << s;
}

TEST(MetaGraphHostileTest, GarbageAndEmptyFilesAreDataLoss) {
  ScratchDir scratch;
  const std::string path = scratch.Join("bad.meta");
  for (const std::string& bytes :
       {std::string(), std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11),
        std::string("this is not a protobuf at all"), std::string("\x12\x7f\x0a", 3),
        std::string("\x0f", 1) /* field 1, wire type 7 */,
        std::string("\x0c", 1) /* a stray end-group tag */,
        std::string("\x1a\x00\x0c", 3) /* an empty saver_def, then end-group */}) {
    SCOPED_TRACE(testing::Sha256Hex(bytes));
    WriteFile(path, bytes);
    auto mg = ReadMetaGraph(path);
    ASSERT_FALSE(mg.ok());
    ExpectDataLoss(mg.status(), path, "MetaGraphDef");
    auto sm = ReadSavedModel(path);
    ASSERT_FALSE(sm.ok());
    ExpectDataLoss(sm.status(), path, "SavedModel");
  }
}

TEST(MetaGraphHostileTest, EveryTruncationIsDataLossUnlessAtAFieldBoundary) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string original = ReadFile(corpus + "/udacity_save_restore/model.ckpt.meta");
  // A prefix that ends exactly where a top-level field ends is itself a valid
  // (smaller) MetaGraphDef; the wire format cannot tell it from a whole file.
  const std::set<size_t> boundaries = TopLevelFieldEnds(original);
  ASSERT_EQ(*boundaries.rbegin(), original.size());
  ScratchDir scratch;
  const std::string path = scratch.Join("cut.meta");
  int parsed = 0;
  for (size_t n = 0; n < original.size(); ++n) {
    // Removed rather than truncated: ext4 flushes a file rewritten after a
    // truncation on close (auto_da_alloc), which makes this loop slow.
    fs::remove(path);
    WriteFile(path, original.substr(0, n));
    auto mg = ReadMetaGraph(path);
    if (boundaries.count(n)) {
      EXPECT_TRUE(mg.ok()) << n << ": " << mg.status();
      ++parsed;
    } else {
      ASSERT_FALSE(mg.ok()) << "prefix of " << n << " bytes parsed";
      ExpectDataLoss(mg.status(), path, "MetaGraphDef");
    }
  }
  EXPECT_EQ(parsed, static_cast<int>(boundaries.size()) - 1);
}

TEST(MetaGraphHostileTest, NestingWithinTheLimitParses) {
  ScratchDir scratch;
  const std::string path = scratch.Join("nested.meta");
  WriteFile(path, NestedAttrMetaGraph(20));  // about 85 levels
  auto mg = ReadMetaGraph(path);
  ASSERT_TRUE(mg.ok()) << mg.status();
  const tensorflow::AttrValue* v = &mg->graph_def().node(0).attr().at("a");
  int depth = 0;
  while (v->has_list()) {
    v = &v->list().func(0).attr().at("k");
    ++depth;
  }
  EXPECT_EQ(depth, 20);
}

TEST(MetaGraphHostileTest, DeepNestingIsDataLossNotACrash) {
  ScratchDir scratch;
  const std::string path = scratch.Join("deep.meta");
  for (int levels : {30, 5000}) {
    SCOPED_TRACE(levels);
    WriteFile(path, NestedAttrMetaGraph(levels));
    auto mg = ReadMetaGraph(path);
    ASSERT_FALSE(mg.ok());
    ExpectDataLoss(mg.status(), path, "MetaGraphDef");
  }
  // A million nested start-group tags (field 1, wire type 3), which the
  // parser treats as unknown groups; unbounded recursion would overflow the
  // stack.
  WriteFile(path, std::string(1000000, '\x0b'));
  auto mg = ReadMetaGraph(path);
  ASSERT_FALSE(mg.ok());
  ExpectDataLoss(mg.status(), path, "MetaGraphDef");
  auto sm = ReadSavedModel(path);
  ASSERT_FALSE(sm.ok());
  ExpectDataLoss(sm.status(), path, "SavedModel");
}

TEST(MetaGraphHostileTest, HugeLengthPrefixIsDataLoss) {
  // graph_def claims 2^31-1 bytes in a 6-byte file.
  ScratchDir scratch;
  const std::string path = scratch.Join("huge.meta");
  WriteFile(path, std::string("\x12\xff\xff\xff\xff\x07", 6));
  auto mg = ReadMetaGraph(path);
  ASSERT_FALSE(mg.ok());
  ExpectDataLoss(mg.status(), path, "MetaGraphDef");
}

TEST(MetaGraphHostileTest, OversizedFileIsRefusedBeforeReading) {
  ScratchDir scratch;
  const std::string path = scratch.Join("big.meta");
  WriteFile(path, "");
  std::error_code ec;
  fs::resize_file(path, kMaxGraphFileBytes + 1, ec);  // sparse: no data written
  if (ec) GTEST_SKIP() << "cannot create a sparse file: " << ec.message();
  auto mg = ReadMetaGraph(path);
  ASSERT_FALSE(mg.ok());
  EXPECT_EQ(mg.status().code(), absl::StatusCode::kResourceExhausted) << mg.status();
  EXPECT_TRUE(absl::StrContains(mg.status().message(), path)) << mg.status();
}

}  // namespace
}  // namespace ckpt
