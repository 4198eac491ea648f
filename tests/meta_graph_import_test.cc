// ImportMetaGraph: TensorFlow-written .meta files import, restore through
// their own SaverDef and compute what their weights say; ours reimport;
// malformed or unsupported graphs fail naming what is wrong.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/meta_graph.h"
#include "ckpt/naming.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/scope.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using testing::ScratchDir;

// The node feeding input `i` of `node` (by name).
std::string InputOf(const Graph& g, const std::string& node, int i) {
  const Node* n = g.FindNode(node);
  if (n == nullptr || n->def.input_size() <= i) return "";
  return n->def.input(i);
}

// udacity_save_restore/train_model: an MNIST logistic regression,
// logits = features · weights + bias. The test finds the nodes by their
// structure rather than trusting names: the MatMul whose first input is a
// Placeholder, and the Add that adds a variable snapshot to it.
TEST(MetaGraphImportTest, TensorFlowLogisticRegressionComputesItsLogits) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string prefix = corpus + "/udacity_save_restore/train_model.ckpt";
  auto mg = ImportMetaGraph(MetaFilename(prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  Graph& g = *mg->graph;
  ASSERT_NE(mg->saver, nullptr);
  EXPECT_EQ(mg->saver->saver_def().restore_op_name(), "save/restore_all");
  ASSERT_EQ(g.variables().size(), 2u);
  EXPECT_EQ(g.variables()[0].variable_name(), "Variable:0");
  EXPECT_EQ(g.trainable_variables().size(), 2u);
  ASSERT_TRUE(g.collections().count("train_op") > 0);
  EXPECT_EQ(g.collections().at("train_op"), std::vector<std::string>{"GradientDescent"});

  auto op_of = [&](const std::string& name) {
    const Node* n = g.FindNode(name);
    return n == nullptr ? std::string() : n->op();
  };
  std::string matmul, logits;
  for (const auto& n : g.nodes()) {
    // features · (snapshot of a variable); the gradient's MatMul multiplies
    // the features by a gradient instead.
    const std::string rhs = InputOf(g, n->name(), 1);
    if (n->op() == "MatMul" && op_of(InputOf(g, n->name(), 0)) == "Placeholder" &&
        op_of(rhs) == "Identity" && op_of(InputOf(g, rhs, 0)) == "VariableV2") {
      EXPECT_EQ(matmul, "") << "two candidates";
      matmul = n->name();
    }
  }
  ASSERT_EQ(matmul, "MatMul");
  for (const auto& n : g.nodes()) {
    if (n->op() == "Add" && InputOf(g, n->name(), 0) == matmul) logits = n->name();
  }
  ASSERT_EQ(logits, "Add");
  const std::string features = InputOf(g, matmul, 0);
  EXPECT_EQ(features, "Placeholder");
  EXPECT_EQ(InputOf(g, matmul, 1), "Variable/read");
  EXPECT_EQ(InputOf(g, logits, 1), "Variable_1/read");
  // Producer 21 < 22: the placeholder's declared shape [] means "unknown",
  // so a batch of two images may be fed.
  EXPECT_TRUE(g.FindNode(features)->output_shapes[0].IsCompatibleWith(TensorShape({2, 784})));

  Session session(&g);
  absl::Status restored = mg->saver->Restore(&session, prefix);
  ASSERT_TRUE(restored.ok()) << restored;

  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto w = (*reader)->Read("Variable");
  auto b = (*reader)->Read("Variable_1");
  ASSERT_TRUE(w.ok() && b.ok());
  ASSERT_EQ(w->shape(), TensorShape({784, 10}));
  ASSERT_EQ(b->shape(), TensorShape({10}));
  // Restored bit for bit.
  EXPECT_TRUE(session.VariableValue("Variable")->Identical(*w));
  EXPECT_TRUE(session.VariableValue("Variable_1")->Identical(*b));

  // Two inputs: a ramp and a sparse "image".
  Tensor x(DT_FLOAT, TensorShape({2, 784}));
  auto xv = x.mutable_flat<float>();
  for (int i = 0; i < 784; ++i) {
    xv[i] = static_cast<float>(i % 97) / 97.0f;
    xv[784 + i] = (i % 13 == 0) ? 1.0f : 0.0f;
  }
  auto out = session.Run({{features + ":0", x}}, {logits + ":0"});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ((*out)[0].shape(), TensorShape({2, 10}));
  auto got = (*out)[0].flat<float>();
  auto wv = w->flat<float>();
  auto bv = b->flat<float>();
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 10; ++c) {
      double want = bv[c], magnitude = std::fabs(bv[c]);
      for (int k = 0; k < 784; ++k) {
        want += static_cast<double>(xv[r * 784 + k]) * wv[k * 10 + c];
        magnitude += std::fabs(static_cast<double>(xv[r * 784 + k]) * wv[k * 10 + c]);
      }
      // Float accumulation in another order: within a few ulps of the sum
      // of magnitudes.
      EXPECT_NEAR(got[r * 10 + c], want, 1e-6 * magnitude + 1e-6) << r << "," << c;
    }
  }
}

TEST(MetaGraphImportTest, TensorFlowTutorialRestoresBitIdentical) {
  CKPT_REQUIRE_CORPUS(corpus);
  const std::string prefix = corpus + "/udacity_save_restore/model.ckpt";
  auto mg = ImportMetaGraph(MetaFilename(prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_NE(mg->saver, nullptr);
  Session session(mg->graph.get());
  absl::Status restored = mg->saver->Restore(&session, prefix);
  ASSERT_TRUE(restored.ok()) << restored;
  auto reader = BundleReader::Open(prefix);
  ASSERT_TRUE(reader.ok());
  for (const char* name : {"weights_0", "bias_0"}) {
    auto want = (*reader)->Read(name);
    auto got = session.VariableValue(name);
    ASSERT_TRUE(want.ok() && got.ok()) << name;
    EXPECT_TRUE(got->Identical(*want)) << name;
  }
  // The snapshot nodes read the restored values.
  auto read = session.Run(std::vector<std::pair<std::string, Tensor>>{},
                          std::vector<std::string>{"weights_0/read:0", "bias_0/read:0"});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ((*read)[0].shape(), TensorShape({2, 3}));
  EXPECT_TRUE((*read)[1].Identical(*(*reader)->Read("bias_0")));
}

TEST(MetaGraphImportTest, UnknownOpIsNotFoundNamingOpAndNode) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto meta = ReadMetaGraph(corpus + "/udacity_save_restore/model.ckpt.meta");
  ASSERT_TRUE(meta.ok()) << meta.status();
  for (auto& n : *meta->mutable_graph_def()->mutable_node()) {
    if (n.name() == "truncated_normal/mul") n.set_op("FancyMul");
  }
  auto mg = ImportMetaGraph(*meta);
  ASSERT_FALSE(mg.ok());
  EXPECT_EQ(mg.status().code(), absl::StatusCode::kNotFound) << mg.status();
  EXPECT_TRUE(absl::StrContains(mg.status().message(), "FancyMul")) << mg.status();
  EXPECT_TRUE(absl::StrContains(mg.status().message(), "truncated_normal/mul")) << mg.status();
}

TEST(MetaGraphImportTest, MalformedCollectionsAndSaverDefs) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto meta = ReadMetaGraph(corpus + "/udacity_save_restore/model.ckpt.meta");
  ASSERT_TRUE(meta.ok()) << meta.status();

  tensorflow::MetaGraphDef garbage = *meta;
  (*garbage.mutable_collection_def())["variables"].mutable_bytes_list()->add_value("\xff\xff");
  EXPECT_EQ(ImportMetaGraph(garbage).status().code(), absl::StatusCode::kDataLoss);

  tensorflow::MetaGraphDef missing_var = *meta;
  tensorflow::VariableDef ghost;
  ghost.set_variable_name("ghost:0");
  (*missing_var.mutable_collection_def())["variables"].mutable_bytes_list()->add_value(
      ghost.SerializeAsString());
  auto s = ImportMetaGraph(missing_var).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "ghost:0")) << s;

  tensorflow::MetaGraphDef bad_saver = *meta;
  bad_saver.mutable_saver_def()->set_restore_op_name("save/restore_everything");
  s = ImportMetaGraph(bad_saver).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "save/restore_everything")) << s;

  tensorflow::MetaGraphDef no_saver = *meta;
  no_saver.clear_saver_def();
  auto ok = ImportMetaGraph(no_saver);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->saver, nullptr);

  EXPECT_EQ(ImportMetaGraph(corpus + "/udacity_save_restore/none.meta").status().code(),
            absl::StatusCode::kNotFound);
}

// TensorFlow Serving's V1 half_plus_two: the graph imports (its old
// Variable and SaveSlices/RestoreSlice ops are known), but its checkpoint
// format is not read yet, which Restore says.
TEST(MetaGraphImportTest, V1SaverImportsButDoesNotRestore) {
  CKPT_REQUIRE_CORPUS(corpus);
  auto mg = ImportMetaGraph(corpus + "/v1_half_plus_two/export.meta");
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_NE(mg->saver, nullptr);
  Session session(mg->graph.get());
  absl::Status s = mg->saver->Restore(&session, corpus + "/v1_half_plus_two/export");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "legacy V1 checkpoints (SaverDef version LEGACY)"))
      << s;
  // Running its restore op directly reaches the V1 kernels, which say the same.
  Tensor file(DT_STRING, TensorShape({}));
  (*file.mutable_strings())[0] = corpus + "/v1_half_plus_two/export";
  s = session
          .Run(std::vector<std::pair<std::string, Tensor>>{{"save/Const:0", file}},
               std::vector<std::string>{}, std::vector<std::string>{"save/restore_all"})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "legacy V1 checkpoints (op RestoreSlice")) << s;
}

// A .meta we wrote imports, restores through its own SaverDef, and trains
// on: its train_op collection names an op that still runs.
TEST(MetaGraphImportTest, OursReimportsAndTrainsOn) {
  ScratchDir dir;
  std::string prefix;
  {
    Graph g;
    Scope root = Scope::NewRootScope(&g);
    Tensor w0(DT_FLOAT, TensorShape({2}));
    w0.mutable_flat<float>()[0] = 1.5f;
    w0.mutable_flat<float>()[1] = -2.0f;
    ops::VariableOptions named;
    named.name = "w";
    Var w = ops::Variable(root, ops::Const(root, w0), named);
    Output step = ops::AssignAdd(root.WithOpName("train"), w.ref(),
                                 ops::Const(root, std::vector<float>{0.25f, 0.25f},
                                            TensorShape({2})));
    Operation init = ops::GlobalVariablesInitializer(root);
    ASSERT_TRUE(root.ok()) << root.status();
    g.AddToCollection("train_op", step.node()->name());
    auto saver = Saver::Create(&g);
    ASSERT_TRUE(saver.ok()) << saver.status();
    Session session(&g);
    ASSERT_TRUE(session.Run({}, {}, {init}).ok());
    ASSERT_TRUE(session.Run({}, {step}, {}).ok());  // w = [1.75, -1.75]
    auto path = (*saver)->Save(&session, dir.Join("model.ckpt"), 1);
    ASSERT_TRUE(path.ok()) << path.status();
    prefix = *path;
  }
  auto mg = ImportMetaGraph(MetaFilename(prefix));
  ASSERT_TRUE(mg.ok()) << mg.status();
  ASSERT_NE(mg->saver, nullptr);
  ASSERT_EQ(mg->graph->variables().size(), 1u);
  ASSERT_TRUE(mg->graph->collections().count("train_op") > 0);
  const std::string train = mg->graph->collections().at("train_op")[0];
  EXPECT_EQ(train, "train");
  Session session(mg->graph.get());
  ASSERT_TRUE(mg->saver->Restore(&session, prefix).ok());
  ASSERT_TRUE(session.Run(std::vector<std::pair<std::string, Tensor>>{}, std::vector<std::string>{},
                          std::vector<std::string>{train}).ok());
  auto w = session.VariableValue("w");
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->flat<float>()[0], 2.0f);
  EXPECT_EQ(w->flat<float>()[1], -1.5f);
  // And saves again through the imported SaverDef, retention included.
  auto again = mg->saver->Save(&session, dir.Join("model.ckpt"), 2);
  ASSERT_TRUE(again.ok()) << again.status();
  auto reader = BundleReader::Open(*again);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Read("w")->flat<float>()[1], -1.5f);
  EXPECT_EQ(LatestCheckpoint(dir.path()).value_or(""), dir.Join("model.ckpt-2"));
}

}  // namespace
}  // namespace ckpt
