// The checkpoint ops: builders (node names as TensorFlow's Python gives
// them) and kernels (SaveV2 / RestoreV2 with whole tensors and slices,
// MergeV2Checkpoints, the V1 ops' Unimplemented error).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/io_ops.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor_proto.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::ScratchDir;

Tensor Floats(const std::vector<float>& v, const TensorShape& shape) {
  Tensor t(DT_FLOAT, shape);
  std::copy(v.begin(), v.end(), t.mutable_flat<float>().begin());
  return t;
}

Tensor String(const std::string& s) {
  Tensor t(DT_STRING, TensorShape({}));
  (*t.mutable_strings())[0] = s;
  return t;
}

absl::Status RunTarget(Session* session, Operation op) {
  return session->Run({}, {}, {op}).status();
}

std::vector<std::string> ConstStrings(const Graph& g, const std::string& node) {
  const Node* n = g.FindNode(node);
  if (n == nullptr) return {"<missing>"};
  auto t = TensorFromProto(n->def.attr().at("value").tensor());
  return t.ok() ? t->strings() : std::vector<std::string>{"<bad>"};
}

TEST(IoOpsTest, BuildersNameNodesAsPython) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Scope save = root.NewSubScope("save");
  Output prefix = ops::Const(save, std::string("model"));
  Output v = ops::Const(root, 1.0f);
  Operation op = ops::SaveV2(save, prefix, {"v"}, {""}, {v});
  std::vector<Output> r = ops::RestoreV2(save, prefix, {"v", "w"}, {"", ""}, {DT_FLOAT, DT_INT64});
  std::vector<Output> r2 = ops::RestoreV2(save, prefix, {"v"}, {""}, {DT_FLOAT});
  Output joined = ops::StringJoin(save, prefix, "_temp/part");
  Output shards = ops::Const(save.WithOpName("num_shards"), int32_t{1});
  Output sharded = ops::ShardedFilename(save, joined, 0, shards);
  Operation merge = ops::MergeV2Checkpoints(save, std::vector<Output>{sharded}, prefix);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(op.name(), "save/SaveV2");
  EXPECT_EQ(ConstStrings(g, "save/SaveV2/tensor_names"), std::vector<std::string>{"v"});
  EXPECT_EQ(ConstStrings(g, "save/SaveV2/shape_and_slices"), std::vector<std::string>{""});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].name(), "save/RestoreV2:1");
  EXPECT_EQ(r[1].dtype(), DT_INT64);
  EXPECT_EQ(r2[0].name(), "save/RestoreV2_1:0");
  EXPECT_EQ(ConstStrings(g, "save/RestoreV2_1/tensor_names"), std::vector<std::string>{"v"});
  EXPECT_EQ(joined.name(), "save/StringJoin:0");
  EXPECT_EQ(ConstStrings(g, "save/StringJoin/inputs_1"), std::vector<std::string>{"_temp/part"});
  EXPECT_EQ(sharded.name(), "save/ShardedFilename:0");
  EXPECT_NE(g.FindNode("save/ShardedFilename/shard"), nullptr);
  EXPECT_EQ(merge.name(), "save/MergeV2Checkpoints");
  EXPECT_EQ(g.FindNode("save/MergeV2Checkpoints/checkpoint_prefixes")->op(), "Pack");
  const auto& save_def = g.FindNode("save/SaveV2")->def;
  ASSERT_EQ(save_def.attr().at("dtypes").list().type_size(), 1);
  EXPECT_EQ(save_def.attr().at("dtypes").list().type(0), DT_FLOAT);

  // Mismatched list lengths are the caller's error.
  Graph g2;
  Scope root2 = Scope::NewRootScope(&g2);
  ops::SaveV2(root2, ops::Const(root2, std::string("p")), {"a", "b"}, {""},
              {ops::Const(root2, 1.0f)});
  EXPECT_EQ(root2.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(IoOpsTest, SaveAndRestoreWholeTensors) {
  ScratchDir dir;
  const std::string prefix = dir.Join("ckpt");
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Tensor ints(DT_INT64, TensorShape({2}));
  ints.mutable_flat<int64_t>()[0] = -5;
  ints.mutable_flat<int64_t>()[1] = int64_t{1} << 40;
  Tensor words(DT_STRING, TensorShape({2}));
  *words.mutable_strings() = {"", std::string("a\0b", 3)};
  const Tensor floats = Floats({1.5f, -0.25f, 3.0f, 4.0f}, {2, 2});
  Output p = ops::Placeholder(root, DT_STRING, PartialShape({}));
  Operation save = ops::SaveV2(root, p, {"f", "i", "s"}, {"", "", ""},
                               {ops::Const(root, floats), ops::Const(root, ints),
                                ops::Const(root, words)});
  std::vector<Output> back =
      ops::RestoreV2(root, p, {"s", "f"}, {"", ""}, {DT_STRING, DT_FLOAT});
  std::vector<Output> wrong = ops::RestoreV2(root, p, {"i"}, {""}, {DT_INT32});
  std::vector<Output> missing = ops::RestoreV2(root, p, {"g"}, {""}, {DT_FLOAT});
  ASSERT_TRUE(root.ok()) << root.status();
  Session session(&g);
  ASSERT_TRUE(session.Run({{p, String(prefix)}}, {}, {save}).ok());

  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->Read("f")->Identical(floats));
  EXPECT_TRUE((*reader)->Read("i")->Identical(ints));
  EXPECT_EQ((*reader)->Read("s")->strings(), words.strings());

  auto out = session.Run({{p, String(prefix)}}, back);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].strings(), words.strings());
  EXPECT_TRUE((*out)[1].Identical(floats));

  auto bad = session.Run({{p, String(prefix)}}, wrong);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(),
                                absl::StrCat("restoring tensor 'i' from ", prefix)))
      << bad.status();
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "int64")) << bad.status();

  auto none = session.Run({{p, String(prefix)}}, missing);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound) << none.status();
  EXPECT_TRUE(absl::StrContains(none.status().message(), "'g'")) << none.status();

  auto no_file = session.Run({{p, String(dir.Join("absent"))}}, back);
  EXPECT_EQ(no_file.status().code(), absl::StatusCode::kNotFound) << no_file.status();
}

TEST(IoOpsTest, SlicesOfAPartitionedTensor) {
  ScratchDir dir;
  const std::string prefix = dir.Join("parts");
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output p = ops::Placeholder(root, DT_STRING, PartialShape({}));
  // emb [4,3] saved as rows 0-1 and rows 2-3.
  const Tensor top = Floats({0, 1, 2, 3, 4, 5}, {2, 3});
  const Tensor bottom = Floats({6, 7, 8, 9, 10, 11}, {2, 3});
  Operation save = ops::SaveV2(root, p, {"emb", "emb"}, {"4 3 0,2:0,3", "4 3 2,2:-"},
                               {ops::Const(root, top), ops::Const(root, bottom)});
  std::vector<Output> middle = ops::RestoreV2(root, p, {"emb"}, {"4 3 1,2:-"}, {DT_FLOAT});
  std::vector<Output> whole = ops::RestoreV2(root, p, {"emb"}, {""}, {DT_FLOAT});
  std::vector<Output> other_full = ops::RestoreV2(root, p, {"emb"}, {"5 3 0,2:-"}, {DT_FLOAT});
  Operation bad_save = ops::SaveV2(root, p, {"x"}, {"4 3 0,1:-"}, {ops::Const(root, top)});
  ASSERT_TRUE(root.ok()) << root.status();
  Session session(&g);
  ASSERT_TRUE(session.Run({{p, String(prefix)}}, {}, {save}).ok());

  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto entry = (*reader)->GetEntry("emb");
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->shape, TensorShape({4, 3}));
  EXPECT_EQ(entry->slices.size(), 2u);

  auto out = session.Run({{p, String(prefix)}}, {middle[0], whole[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE((*out)[0].Identical(Floats({3, 4, 5, 6, 7, 8}, {2, 3})));
  EXPECT_TRUE((*out)[1].Identical(Floats({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {4, 3})));

  auto mismatch = session.Run({{p, String(prefix)}}, {other_full[0]});
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument) << mismatch.status();
  EXPECT_TRUE(absl::StrContains(mismatch.status().message(), "[5,3]")) << mismatch.status();

  // A slice spec whose shape is not the tensor's.
  absl::Status s = session.Run({{p, String(dir.Join("bad"))}}, {}, {bad_save}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'x'")) << s;
}

TEST(IoOpsTest, MergeV2CheckpointsJoinsShards) {
  ScratchDir dir;
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output a = ops::Const(root, std::string(dir.Join("tmp/part-0")));
  Output b = ops::Const(root, std::string(dir.Join("tmp/part-1")));
  Output dest = ops::Const(root, std::string(dir.Join("merged")));
  Operation save_a = ops::SaveV2(root, a, {"x"}, {""}, {ops::Const(root, 1.0f)});
  Operation save_b = ops::SaveV2(root, b, {"y"}, {""}, {ops::Const(root, 2.0f)});
  Operation merge = ops::MergeV2Checkpoints(
      root.WithControlDependencies({save_a, save_b}), std::vector<Output>{a, b}, dest);
  ASSERT_TRUE(root.ok()) << root.status();
  Session session(&g);
  ASSERT_TRUE(RunTarget(&session, merge).ok());
  auto reader = BundleReader::Open(dir.Join("merged"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->Read("x")->flat<float>()[0], 1.0f);
  EXPECT_EQ((*reader)->Read("y")->flat<float>()[0], 2.0f);
  EXPECT_EQ((*reader)->num_shards(), 2);
  // The inputs' indexes and their emptied directory are gone.
  EXPECT_FALSE(testing::FileExists(IndexFilename(dir.Join("tmp/part-0"))));
  EXPECT_FALSE(testing::FileExists(dir.Join("tmp")));
}

TEST(IoOpsTest, LegacyV1OpsAreUnimplemented) {
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Output file = ops::Const(root, std::string("model"));
  Output names = ops::Const(root, std::string("v"));
  Node* save = root.WithOpName("save/save").AddOpWithLists(
      "Save", "Save", {{file}, {names}, {ops::Const(root, 1.0f)}}, {});
  Node* restore = root.WithOpName("save/restore_slice").AddOpWithLists(
      "RestoreSlice", "RestoreSlice", {{file}, {names}, {ops::Const(root, std::string(""))}},
      {{"dt", AttrType(DT_FLOAT)}});
  ASSERT_TRUE(root.ok()) << root.status();
  Session session(&g);
  absl::Status s = RunTarget(&session, Operation(save));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_TRUE(absl::StrContains(
      s.message(), "legacy V1 checkpoints (op Save in node save/save) are not supported yet"))
      << s;
  s = session.Run({}, {Output(restore, 0)}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "op RestoreSlice in node save/restore_slice")) << s;
}

}  // namespace
}  // namespace ckpt
