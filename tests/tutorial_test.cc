// The two TensorFlow 1.x tutorials on ckpt's runtime: resuming training from
// a checkpoint is exact, and save/restore round-trips variables bit for bit.
#include <regex>
#include <string>
#include <vector>

#include "ckpt/bundle_reader.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/session.h"
#include "gtest/gtest.h"
#include "tutorial_model.h"
#include "util/test_util.h"

namespace ckpt {
namespace {

using examples::BuildCurveModel;
using examples::CurveData;
using examples::CurveModel;
using examples::CurveModelOptions;
using examples::MakeCurveData;

void Train(Session* session, const CurveModel& m, const CurveData& d, int steps) {
  for (int i = 0; i < steps; ++i) {
    auto r = session->Run({{m.xs, d.x}, {m.ys, d.y}}, {}, {m.train});
    ASSERT_TRUE(r.ok()) << r.status();
  }
}

// Every variable of the graph (model, step counter, optimizer slots), by name.
std::vector<std::pair<std::string, Tensor>> AllVariables(const Graph& g, const Session& s) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& vd : g.variables()) {
    std::string name = vd.variable_name().substr(0, vd.variable_name().find(':'));
    auto v = s.VariableValue(name);
    EXPECT_TRUE(v.ok()) << name << ": " << v.status();
    if (v.ok()) out.emplace_back(name, *v);
  }
  return out;
}

class ResumeTest : public ::testing::TestWithParam<std::string> {};

// 1000 steps in one session give bit-identical variables to 500 steps, a
// save, and 500 more steps in a fresh graph and session restored from it.
TEST_P(ResumeTest, ResumingIsExact) {
  CurveModelOptions opts;
  opts.optimizer = GetParam();
  if (opts.optimizer == "adam") opts.learning_rate = 0.01f;
  const CurveData data = MakeCurveData();
  testing::ScratchDir dir;

  Graph g1;
  auto m1 = BuildCurveModel(&g1, opts);
  ASSERT_TRUE(m1.ok()) << m1.status();
  Session s1(&g1);
  ASSERT_TRUE(s1.Run({}, {}, {m1->init}).ok());
  Train(&s1, *m1, data, 1000);
  const auto straight = AllVariables(g1, s1);

  std::string prefix;
  {
    Graph g2;
    auto m2 = BuildCurveModel(&g2, opts);
    ASSERT_TRUE(m2.ok()) << m2.status();
    auto saver = Saver::Create(&g2);
    ASSERT_TRUE(saver.ok()) << saver.status();
    Session s2(&g2);
    ASSERT_TRUE(s2.Run({}, {}, {m2->init}).ok());
    Train(&s2, *m2, data, 500);
    auto saved = (*saver)->Save(&s2, dir.Join("model.ckpt"), 500);
    ASSERT_TRUE(saved.ok()) << saved.status();
    prefix = *saved;
  }
  Graph g3;
  auto m3 = BuildCurveModel(&g3, opts);
  ASSERT_TRUE(m3.ok()) << m3.status();
  auto saver = Saver::Create(&g3);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session s3(&g3);
  ASSERT_TRUE((*saver)->Restore(&s3, prefix).ok());
  auto step = s3.VariableValue("global_step");
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(step->flat<int64_t>()[0], 500);
  Train(&s3, *m3, data, 500);
  const auto resumed = AllVariables(g3, s3);

  ASSERT_EQ(straight.size(), resumed.size());
  if (opts.optimizer == "adam") {
    // Slots and step counters are part of what must survive.
    std::vector<std::string> names;
    for (const auto& [n, t] : resumed) names.push_back(n);
    for (const char* want : {"W1/Adam", "W1/Adam_1", "beta1_power", "beta2_power"}) {
      EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
  }
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_EQ(straight[i].first, resumed[i].first);
    EXPECT_TRUE(straight[i].second.Identical(resumed[i].second))
        << straight[i].first << " differs after resuming";
  }
  auto final_step = s3.VariableValue("global_step");
  ASSERT_TRUE(final_step.ok());
  EXPECT_EQ(final_step->flat<int64_t>()[0], 1000);
}

INSTANTIATE_TEST_SUITE_P(Optimizers, ResumeTest,
                         ::testing::Values("gradient_descent", "momentum", "adam"));

// Without the restore, a fresh start is far from the resumed state: the
// resume test above could not pass by accident.
TEST(ResumeTest, TrainingChangesTheVariables) {
  const CurveData data = MakeCurveData();
  Graph g;
  auto m = BuildCurveModel(&g, {});
  ASSERT_TRUE(m.ok()) << m.status();
  Session s(&g);
  ASSERT_TRUE(s.Run({}, {}, {m->init}).ok());
  auto before = s.VariableValue("W1");
  Train(&s, *m, data, 10);
  auto after = s.VariableValue("W1");
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_FALSE(before->Identical(*after));
}

std::vector<double> Losses(const std::string& output) {
  std::vector<double> out;
  static const std::regex kLine(R"(model saved: \S+  loss: ([0-9.]+))");
  for (std::sregex_iterator it(output.begin(), output.end(), kLine), end; it != end; ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

// The README's demo, run twice in a fresh directory.
TEST(FitCurveDemo, SecondRunResumesInsteadOfStartingOver) {
  testing::ScratchDir dir;
  std::string out1, out2;
  ASSERT_EQ(testing::RunCommand(testing::ToolPath("fit_curve") + " " + dir.path(), &out1), 0)
      << out1;
  EXPECT_NE(out1.find("initialized"), std::string::npos) << out1;
  const std::vector<double> run1 = Losses(out1);
  ASSERT_EQ(run1.size(), 20u) << out1;
  EXPECT_GT(run1.front(), 0.1) << out1;
  EXPECT_LT(run1.back(), 0.01) << out1;
  EXPECT_NE(out1.find("model saved: " + dir.path() + "/tmp/model.ckpt  loss: "),
            std::string::npos);

  ASSERT_EQ(testing::RunCommand(testing::ToolPath("fit_curve") + " " + dir.path(), &out2), 0)
      << out2;
  // The last save of a run is after step 951 (saves follow steps 1, 51, ...).
  EXPECT_NE(out2.find("restored: " + dir.path() + "/tmp/model.ckpt  (step 951)"),
            std::string::npos)
      << out2;
  const std::vector<double> run2 = Losses(out2);
  ASSERT_EQ(run2.size(), 20u) << out2;
  EXPECT_LT(run2.front(), 0.01) << out2;
  EXPECT_LE(run2.back(), run1.back()) << "training should go on improving";

  // The files are a TensorFlow checkpoint: a bundle with every variable.
  auto reader = BundleReader::Open(dir.path() + "/tmp/model.ckpt");
  ASSERT_TRUE(reader.ok()) << reader.status();
  for (const char* name : {"W1", "b1", "W2", "b2", "global_step"}) {
    EXPECT_TRUE((*reader)->Contains(name)) << name;
  }
  EXPECT_TRUE(testing::FileExists(dir.path() + "/tmp/model.ckpt.meta"));
  EXPECT_TRUE(testing::FileExists(dir.path() + "/tmp/checkpoint"));

  // The directory resolves to its latest checkpoint's graph, TF's names.
  std::string meta;
  ASSERT_EQ(testing::RunCommand(testing::ToolPath("ckpt_dump") + " --meta " + dir.path() + "/tmp",
                                &meta),
            0)
      << meta;
  EXPECT_NE(meta.find("filename save/Const:0"), std::string::npos) << meta;
  EXPECT_NE(meta.find("restore save/restore_all"), std::string::npos) << meta;
  EXPECT_NE(meta.find("train_op"), std::string::npos) << meta;
}

// The second tutorial: restored values equal the saved ones bit for bit.
TEST(SaveRestoreTutorial, RestoredValuesAreBitIdentical) {
  testing::ScratchDir dir;
  const std::string prefix = dir.Join("model.ckpt");
  std::vector<Tensor> saved;
  {
    Graph g;
    Scope root = Scope::NewRootScope(&g);
    Var w = ops::Variable(root, ops::TruncatedNormal(root, TensorShape({2, 3})));
    Var b = ops::Variable(root, ops::TruncatedNormal(root, TensorShape({3})));
    Operation init = ops::GlobalVariablesInitializer(root);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(w.name(), "Variable");
    EXPECT_EQ(b.name(), "Variable_1");
    auto saver = Saver::Create(&g);
    ASSERT_TRUE(saver.ok()) << saver.status();
    Session s(&g);
    ASSERT_TRUE(s.Run({}, {}, {init}).ok());
    auto v = s.Run({}, {w, b});
    ASSERT_TRUE(v.ok()) << v.status();
    saved = *v;
    ASSERT_TRUE((*saver)->Save(&s, prefix).ok());
  }
  Graph g;
  Scope root = Scope::NewRootScope(&g);
  Var w = ops::Variable(root, ops::TruncatedNormal(root, TensorShape({2, 3})));
  Var b = ops::Variable(root, ops::TruncatedNormal(root, TensorShape({3})));
  ASSERT_TRUE(root.ok()) << root.status();
  auto saver = Saver::Create(&g);
  ASSERT_TRUE(saver.ok()) << saver.status();
  Session s(&g);
  // Before the restore the variables are uninitialized, and say so.
  auto early = s.Run({}, {w});
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("uninitialized value Variable"), std::string::npos)
      << early.status();
  ASSERT_TRUE((*saver)->Restore(&s, prefix).ok());
  auto restored = s.Run({}, {w, b});
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_TRUE(saved[0].Identical((*restored)[0]));
  EXPECT_TRUE(saved[1].Identical((*restored)[1]));
}

// The shipped program prints the same values before and after.
TEST(SaveRestoreTutorial, ProgramPrintsTheSameValuesTwice) {
  testing::ScratchDir dir;
  std::string out;
  ASSERT_EQ(testing::RunCommand(testing::ToolPath("save_restore") + " " + dir.path(), &out), 0)
      << out;
  const size_t split = out.find("restored:");
  ASSERT_NE(split, std::string::npos) << out;
  std::string before = out.substr(0, out.find("saved:"));
  std::string after = out.substr(out.find('\n', split) + 1);
  EXPECT_EQ(before, after);
  EXPECT_NE(before.find("Weights: float32[2,3]"), std::string::npos) << out;
}

}  // namespace
}  // namespace ckpt
