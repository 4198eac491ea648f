// The save-and-restore tutorial, as in TensorFlow 1.x:
//
//   save_restore [WORKDIR]      (default: the current directory)
//
// Creates weights [2,3] and bias [3] from truncated_normal, prints them and
// saves them to WORKDIR/model.ckpt; then, in a fresh graph and session, makes
// new variables of the same names and shapes, restores them (no
// initializer runs) and prints them again: the same values, bit for bit.
#include <cstdio>
#include <string>

#include "ckpt/runtime/ops.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/session.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "save_restore: %s\n", std::string(s.message()).c_str());
  return 2;
}

// Rows of a 1-D or 2-D float tensor, with enough digits to round-trip.
void Print(const char* title, const ckpt::Tensor& t) {
  std::printf("%s %s\n", title, t.DebugString().c_str());
  const auto v = t.flat<float>();
  const int64_t cols = t.shape().rank() == 2 ? t.shape().dim(1) : t.NumElements();
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    std::printf(i % cols == 0 ? "  [%.9g" : ", %.9g", static_cast<double>(v[i]));
    if ((i + 1) % cols == 0) std::printf("]\n");
  }
}

struct Model {
  ckpt::Var weights, bias;
  ckpt::Operation init;
};

Model Build(ckpt::Graph* graph) {
  using namespace ckpt::ops;  // NOLINT: reads like the Python tutorial
  ckpt::Scope root = ckpt::Scope::NewRootScope(graph);
  Model m;
  m.weights = Variable(root, TruncatedNormal(root, ckpt::TensorShape({2, 3})));  // "Variable"
  m.bias = Variable(root, TruncatedNormal(root, ckpt::TensorShape({3})));        // "Variable_1"
  m.init = GlobalVariablesInitializer(root);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "--help" ||
                                 std::string(argv[1]) == "-h"))) {
    std::fprintf(argc > 2 ? stderr : stdout,
                 "usage: save_restore [WORKDIR]\n"
                 "Saves two random variables to WORKDIR/model.ckpt, restores them into a\n"
                 "fresh graph and prints both.\n");
    return argc > 2 ? 2 : 0;
  }
  const std::string workdir = argc == 2 ? argv[1] : ".";
  const std::string save_file = workdir + "/model.ckpt";

  {
    ckpt::Graph graph;
    Model m = Build(&graph);
    auto saver = ckpt::Saver::Create(&graph);
    if (!saver.ok()) return Fail(saver.status());
    ckpt::Session session(&graph);
    if (auto r = session.Run({}, {}, {m.init}); !r.ok()) return Fail(r.status());
    auto values = session.Run({}, {m.weights, m.bias});
    if (!values.ok()) return Fail(values.status());
    Print("Weights:", (*values)[0]);
    Print("Bias:", (*values)[1]);
    auto path = (*saver)->Save(&session, save_file);
    if (!path.ok()) return Fail(path.status());
    std::printf("saved: %s\n\n", path->c_str());
  }

  // tf.reset_default_graph(): a new graph with new variables of the same
  // names and shapes; their initial values are never computed.
  ckpt::Graph graph;
  Model m = Build(&graph);
  auto saver = ckpt::Saver::Create(&graph);
  if (!saver.ok()) return Fail(saver.status());
  ckpt::Session session(&graph);
  if (absl::Status s = (*saver)->Restore(&session, save_file); !s.ok()) return Fail(s);
  auto values = session.Run({}, {m.weights, m.bias});
  if (!values.ok()) return Fail(values.status());
  std::printf("restored: %s\n", save_file.c_str());
  Print("Weights:", (*values)[0]);
  Print("Bias:", (*values)[1]);
  return 0;
}
