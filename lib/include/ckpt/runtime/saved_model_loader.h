// ckpt/runtime/saved_model_loader.h — loading a TF1-style SavedModel and
// running its signatures, as tf.saved_model.loader.load and
// saved_model_cli run do.
//
//   CKPT_ASSIGN_OR_RETURN(auto model, ckpt::LoadSavedModel("models/half_plus_two", {"serve"}));
//   ckpt::Tensor x(ckpt::DT_FLOAT, ckpt::TensorShape({3, 1}));
//   absl::Span<float> v = x.mutable_flat<float>();
//   v[0] = 1, v[1] = 2, v[2] = 5;
//   CKPT_ASSIGN_OR_RETURN(auto outputs, model->RunSignature("serving_default", {{"x", x}}));
//   // outputs[0] = {"y", [[2.5], [3], [4.5]]}
//
// A SavedModel directory holds saved_model.pb (one or more MetaGraphDefs,
// each tagged, e.g. {"serve"}) and variables/variables.{index,data-*}.
// Loading picks the MetaGraphDef whose tag set equals `tags` (order and
// duplicates aside), imports it (see meta_graph_import.h), restores the
// variables through the graph's SaverDef when the variables bundle exists,
// and runs the main op: the "saved_model_main_op" collection, else the
// "legacy_init_op" collection, else the "__saved_model_init_op" signature.
// Asset files (the "saved_model_assets" collection or asset_file_def) are
// fed to their tensors as <dir>/assets/<filename> while the main op runs.
//
// Thread safety: RunSignature may be called from several threads (the
// session serializes runs).
#ifndef CKPT_RUNTIME_SAVED_MODEL_LOADER_H_
#define CKPT_RUNTIME_SAVED_MODEL_LOADER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ckpt/env.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/saver.h"
#include "ckpt/runtime/session.h"
#include "ckpt/tensor.h"
#include "meta_graph.pb.h"

namespace ckpt {

class SavedModelBundle;

// Loads the SavedModel in `dir` (see the file comment). NotFound when no
// MetaGraphDef has exactly `tags`, listing the tag sets there are; errors of
// reading, importing, restoring and the main op otherwise, naming `dir`.
absl::StatusOr<std::unique_ptr<SavedModelBundle>> LoadSavedModel(
    const std::string& dir, const std::vector<std::string>& tags = {"serve"}, Env* env = nullptr);

class SavedModelBundle {
 public:
  ~SavedModelBundle();
  SavedModelBundle(const SavedModelBundle&) = delete;
  SavedModelBundle& operator=(const SavedModelBundle&) = delete;

  Graph& graph() { return *graph_; }
  Session& session() { return *session_; }
  const ::tensorflow::MetaGraphDef& meta_graph() const { return meta_graph_; }

  // The signature's inputs (key -> tensor info with name "x:0", dtype,
  // shape), outputs likewise. NotFound listing the signatures there are.
  absl::StatusOr<const ::tensorflow::SignatureDef*> Signature(const std::string& key) const;

  // Runs a signature: inputs by input key; output_keys empty = all outputs,
  // sorted by key. Returns (key, tensor) pairs in the order asked for. An
  // unknown input or output key is InvalidArgument listing the valid keys; an
  // input of another dtype or an incompatible shape than the signature
  // declares is InvalidArgument naming the key.
  absl::StatusOr<std::vector<std::pair<std::string, Tensor>>> RunSignature(
      const std::string& signature_key, const std::vector<std::pair<std::string, Tensor>>& inputs,
      const std::vector<std::string>& output_keys = {});

 private:
  friend absl::StatusOr<std::unique_ptr<SavedModelBundle>> LoadSavedModel(
      const std::string& dir, const std::vector<std::string>& tags, Env* env);
  SavedModelBundle() = default;

  ::tensorflow::MetaGraphDef meta_graph_;
  std::unique_ptr<Graph> graph_;
  std::unique_ptr<Saver> saver_;
  std::unique_ptr<Session> session_;  // declared last: destroyed before the graph
};

}  // namespace ckpt

#endif  // CKPT_RUNTIME_SAVED_MODEL_LOADER_H_
