// The curve-fitting tutorial with save and resume, as in TensorFlow 1.x:
//
//   fit_curve [WORKDIR]      (default: the current directory)
//
// Trains a 1-10-1 ReLU network on y = x^2 - 0.5 + noise for 1000 gradient
// descent steps and saves WORKDIR/tmp/model.ckpt every 50 steps. When
// WORKDIR/tmp/checkpoint exists, the variables are restored from
// tmp/model.ckpt first, so a second run continues where the first stopped
// instead of starting over. The files are TensorFlow's: a Python
// tf.train.Saver can restore them, and `ckpt_dump WORKDIR/tmp` shows them.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "ckpt/env.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/session.h"
#include "tutorial_model.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "fit_curve: %s\n", std::string(s.message()).c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "--help" ||
                                 std::string(argv[1]) == "-h"))) {
    std::fprintf(argc > 2 ? stderr : stdout,
                 "usage: fit_curve [WORKDIR]\n"
                 "Trains the 1-10-1 curve-fitting tutorial for 1000 steps, saving\n"
                 "WORKDIR/tmp/model.ckpt every 50 steps; resumes from it when\n"
                 "WORKDIR/tmp/checkpoint exists.\n");
    return argc > 2 ? 2 : 0;
  }
  const std::string workdir = argc == 2 ? argv[1] : ".";
  const std::string tmp = workdir == "." ? "tmp" : workdir + "/tmp";
  const std::string prefix = tmp + "/model.ckpt";

  ckpt::Graph graph;
  absl::StatusOr<ckpt::examples::CurveModel> model =
      ckpt::examples::BuildCurveModel(&graph, {});
  if (!model.ok()) return Fail(model.status());
  absl::StatusOr<std::unique_ptr<ckpt::Saver>> saver = ckpt::Saver::Create(&graph);
  if (!saver.ok()) return Fail(saver.status());

  ckpt::Env* env = ckpt::Env::Default();
  if (absl::Status s = ckpt::CreateDirRecursively(env, tmp); !s.ok()) return Fail(s);
  ckpt::Session session(&graph);
  if (env->FileExists(tmp + "/checkpoint")) {
    if (absl::Status s = (*saver)->Restore(&session, prefix); !s.ok()) return Fail(s);
    absl::StatusOr<ckpt::Tensor> step = session.VariableValue("global_step");
    std::printf("restored: %s  (step %lld)\n", prefix.c_str(),
                step.ok() ? static_cast<long long>(step->flat<int64_t>()[0]) : -1LL);
  } else {
    auto init = session.Run({}, {}, {model->init});
    if (!init.ok()) return Fail(init.status());
    std::printf("initialized: no checkpoint in %s\n", tmp.c_str());
  }

  const ckpt::examples::CurveData data = ckpt::examples::MakeCurveData();
  const std::vector<std::pair<ckpt::Output, ckpt::Tensor>> feed = {{model->xs, data.x},
                                                                    {model->ys, data.y}};
  // As the tutorial: a step, and at every 50th (counting from 0) the loss
  // after it and a save.
  for (int i = 0; i < 1000; ++i) {
    if (auto r = session.Run(feed, {}, {model->train}); !r.ok()) return Fail(r.status());
    if (i % 50 == 0) {
      auto loss = session.Run(feed, {model->loss});
      if (!loss.ok()) return Fail(loss.status());
      absl::StatusOr<std::string> path = (*saver)->Save(&session, prefix);
      if (!path.ok()) return Fail(path.status());
      std::printf("model saved: %s  loss: %.4f\n", path->c_str(),
                  static_cast<double>((*loss)[0].flat<float>()[0]));
    }
  }
  return 0;
}
