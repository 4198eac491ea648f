// ckpt_run MODEL: runs a SavedModel signature, or a meta graph restored from
// a checkpoint, on values given on the command line, and prints the outputs:
// the equivalent of TensorFlow's `saved_model_cli run`.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ckpt/env.h"
#include "ckpt/runtime/graph.h"
#include "ckpt/runtime/meta_graph_import.h"
#include "ckpt/runtime/saved_model_loader.h"
#include "ckpt/runtime/session.h"
#include "ckpt/status_macros.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/format.h"
#include "common/json_out.h"
#include "common/npy.h"
#include "common/numeric.h"
#include "common/tensor_literal.h"
#include "common/values.h"

namespace {

using namespace ckpt::tools;

const char kSynopsis[] =
    "Usage: ckpt_run [options] MODEL\n"
    "Runs a model's graph on values given on the command line and prints what it\n"
    "computes: the equivalent of TensorFlow's saved_model_cli run.\n"
    "\n"
    "  ckpt_run SAVED_MODEL_DIR [--tag_set=serve] [--signature=serving_default]\n"
    "           --input KEY=VALUE ...\n"
    "      loads the SavedModel (restoring its variables, running its main op) and\n"
    "      runs a signature: inputs and outputs by their keys, all outputs printed.\n"
    "  ckpt_run MODEL.meta [--checkpoint=PREFIX] --feed NAME:0=VALUE ...\n"
    "           --fetch NAME:0 ... [--target OP ...]\n"
    "      imports the meta graph, restores PREFIX (a prefix, one of its files or a\n"
    "      directory with a 'checkpoint' file) through the graph's own saver, and\n"
    "      runs the fetches and targets. --feed/--fetch/--target also run a\n"
    "      SavedModel's graph directly, instead of a signature.\n"
    "\n"
    "VALUE is a literal, as Python writes it: [[1],[2],[5]], 3.5, [true, false],\n"
    "[\"a\", \"b\"], nan, -inf, 1+2j (quote it for the shell), or @FILE.npy for a\n"
    "NumPy file. A value is converted to the dtype the graph declares (refusing\n"
    "2.5 for an integer, 300 for uint8), must fit its shape, and a flat list or\n"
    "scalar is reshaped when the shape leaves one dimension open ([1,2,5] for a\n"
    "[?,1] input). --inputs 'x=[1];y=[2]' gives several inputs at once.\n"
    "\n"
    "Output: for each output key or fetch, in order, a line 'NAME: DTYPE[SHAPE]'\n"
    "then the values as NumPy prints them. --json prints {\"outputs\": [{\"name\",\n"
    "\"dtype\", \"shape\", \"values\" (flattened; NaN and infinities as strings,\n"
    "complex as [re, im]), \"file\" (with --output_dir)}]}. --output_dir DIR writes\n"
    "each output as DIR/NAME.npy, NAME with characters other than letters, digits,\n"
    "'.', '-' and '_' replaced by '_'.";

absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// "KEY=VALUE" split at the first '=' (keys and tensor names have none).
bool SplitAssignment(const std::string& arg, std::string* key, std::string* value) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *key = arg.substr(0, eq);
  *value = arg.substr(eq + 1);
  return true;
}

// --inputs 'x=[1, 2];y="a;b"': splits at ';' outside brackets and quotes.
std::vector<std::string> SplitInputs(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < text.size()) {
        current.push_back(c);
        current.push_back(text[++i]);
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '(') {
      ++depth;
    } else if (c == ']' || c == ')') {
      --depth;
    } else if (c == ';' && depth <= 0) {
      if (!current.empty()) out.push_back(current);
      current.clear();
      continue;
    }
    current.push_back(c);
  }
  if (!current.empty()) out.push_back(current);
  return out;
}

// A value from the command line, converted to the dtype and fitted to the
// shape the graph declares (DT_INVALID / unknown: as given).
absl::StatusOr<ckpt::Tensor> ValueFor(const std::string& text, ckpt::DType dtype,
                                      const ckpt::PartialShape& shape) {
  if (absl::StartsWith(text, "@")) {
    CKPT_ASSIGN_OR_RETURN(ckpt::Tensor t, ReadNpyFile(text.substr(1)));
    if (dtype != ckpt::DT_INVALID) {
      CKPT_ASSIGN_OR_RETURN(t, ConvertTensor(t, dtype));
    }
    return FitToShape(t, shape);
  }
  return ParseTensorLiteral(text, dtype, shape);
}

struct NamedTensor {
  std::string name;
  ckpt::Tensor value;
};

// Letters, digits, '.', '-', '_' kept; anything else (the '/' and ':' of
// tensor names, control bytes) becomes '_'. Never empty, never "." or "..".
std::string SafeFileName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

// Writes every output as <dir>/<name>.npy. Everything is encoded and every
// target checked before the first file is written, so a refused output
// (bfloat16 has no NumPy type) or an existing file leaves nothing behind.
absl::StatusOr<std::vector<std::string>> WriteOutputs(const std::vector<NamedTensor>& outputs,
                                                      const std::string& dir, bool overwrite) {
  ckpt::Env* env = ckpt::Env::Default();
  CKPT_RETURN_IF_ERROR(ckpt::CreateDirRecursively(env, dir));
  std::vector<std::string> paths;
  std::vector<std::string> contents;
  std::set<std::string> used;
  for (const NamedTensor& o : outputs) {
    std::string base = SafeFileName(o.name);
    std::string file = base + ".npy";
    for (int n = 2; used.count(file) > 0; ++n) file = absl::StrCat(base, "_", n, ".npy");
    used.insert(file);
    const std::string path = absl::StrCat(dir, "/", file);
    if (!overwrite && env->FileExists(path)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " already exists (--overwrite replaces it)"));
    }
    absl::StatusOr<std::string> bytes = EncodeNpy(o.value);
    if (!bytes.ok()) return Annotate(bytes.status(), absl::StrCat("output '", o.name, "'"));
    paths.push_back(path);
    contents.push_back(std::move(*bytes));
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    CKPT_RETURN_IF_ERROR(ckpt::WriteFileAtomically(env, paths[i], contents[i]));
  }
  return paths;
}

// Runs a signature of a loaded SavedModel.
absl::StatusOr<std::vector<NamedTensor>> RunSignature(ckpt::SavedModelBundle* model,
                                                      const std::string& signature_key,
                                                      const std::vector<std::string>& inputs) {
  CKPT_ASSIGN_OR_RETURN(const tensorflow::SignatureDef* sig, model->Signature(signature_key));
  std::vector<std::pair<std::string, ckpt::Tensor>> feeds;
  for (const std::string& arg : inputs) {
    std::string key, text;
    if (!SplitAssignment(arg, &key, &text)) {
      return absl::InvalidArgumentError(absl::StrCat("--input wants KEY=VALUE, got '", arg, "'"));
    }
    auto it = sig->inputs().find(key);
    if (it == sig->inputs().end()) {
      std::vector<std::string> keys;
      for (const auto& kv : sig->inputs()) keys.push_back(kv.first);
      std::sort(keys.begin(), keys.end());
      return absl::InvalidArgumentError(absl::StrCat(
          "signature '", signature_key, "' has no input '", key, "'; its inputs: ",
          keys.empty() ? "(none)" : absl::StrJoin(keys, ", ")));
    }
    ckpt::PartialShape shape;
    if (it->second.has_tensor_shape()) {
      CKPT_ASSIGN_OR_RETURN(shape, ckpt::PartialShape::FromProto(it->second.tensor_shape()));
    }
    absl::StatusOr<ckpt::Tensor> value = ValueFor(text, it->second.dtype(), shape);
    if (!value.ok()) {
      return Annotate(value.status(),
                      absl::StrCat("input '", key, "' (", ckpt::DTypeName(it->second.dtype()),
                                   shape.DebugString(), ")"));
    }
    feeds.emplace_back(key, *value);
  }
  CKPT_ASSIGN_OR_RETURN(auto results, model->RunSignature(signature_key, feeds));
  std::vector<NamedTensor> out;
  for (auto& [key, value] : results) out.push_back({key, std::move(value)});
  return out;
}

// Runs fetches and targets by tensor and op name.
absl::StatusOr<std::vector<NamedTensor>> RunTensors(ckpt::Graph* graph, ckpt::Session* session,
                                                    const std::vector<std::string>& feed_args,
                                                    const std::vector<std::string>& fetches,
                                                    const std::vector<std::string>& targets) {
  std::vector<std::pair<std::string, ckpt::Tensor>> feeds;
  for (const std::string& arg : feed_args) {
    std::string name, text;
    if (!SplitAssignment(arg, &name, &text)) {
      return absl::InvalidArgumentError(absl::StrCat("--feed wants NAME:0=VALUE, got '", arg, "'"));
    }
    absl::StatusOr<ckpt::Output> output = graph->FindOutput(name);
    if (!output.ok()) return Annotate(output.status(), absl::StrCat("--feed ", name));
    absl::StatusOr<ckpt::Tensor> value = ValueFor(text, output->dtype(), output->shape());
    if (!value.ok()) {
      return Annotate(value.status(), absl::StrCat("feed '", name, "' (", ckpt::DTypeName(output->dtype()),
                                                   output->shape().DebugString(), ")"));
    }
    feeds.emplace_back(name, *value);
  }
  for (const std::string& name : fetches) {
    absl::StatusOr<ckpt::Output> output = graph->FindOutput(name);
    if (!output.ok()) return Annotate(output.status(), absl::StrCat("--fetch ", name));
  }
  absl::StatusOr<std::vector<ckpt::Tensor>> values = session->Run(feeds, fetches, targets);
  if (!values.ok()) return Annotate(values.status(), "running the graph");
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < fetches.size() && i < values->size(); ++i) {
    out.push_back({fetches[i], std::move((*values)[i])});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cli(
      "ckpt_run", kSynopsis,
      {{"tag_set", true, false, "SavedModel: comma-separated tags of the meta graph (default serve)"},
       {"signature", true, false, "SavedModel: the signature to run (default serving_default)"},
       {"signature_def", true, false, "the same as --signature (saved_model_cli's name)"},
       {"input", true, true, "SavedModel: KEY=VALUE, an input of the signature"},
       {"inputs", true, true, "SavedModel: KEY=VALUE;KEY=VALUE;..."},
       {"checkpoint", true, false, ".meta: the checkpoint to restore the variables from"},
       {"feed", true, true, "NAME:0=VALUE, a value for any tensor of the graph"},
       {"fetch", true, true, "NAME:0, a tensor to compute and print"},
       {"target", true, true, "OP, an op to run for its effect"},
       {"output_dir", true, false, "also write each output as DIR/NAME.npy"},
       {"overwrite", false, false, "replace existing files in --output_dir"},
       {"json", false, false, "print one JSON document instead of text"},
       {"max_elements", true, false,
        "summarize printed values with ... past this many elements (default 1000; -1: never)"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 1) return cli.Fail("expected one MODEL (see --help)");
  std::string model_path = cli.positional()[0];
  int64_t max_elements = kDefaultMaxPrintedElements;
  if (cli.Has("max_elements") && !absl::SimpleAtoi(cli.Get("max_elements"), &max_elements)) {
    return cli.Fail("--max_elements needs a whole number");
  }
  if (cli.Has("signature") && cli.Has("signature_def")) {
    return cli.Fail("give --signature or --signature_def, not both");
  }

  std::vector<std::string> inputs = cli.GetAll("input");
  for (const std::string& group : cli.GetAll("inputs")) {
    for (std::string& one : SplitInputs(group)) inputs.push_back(std::move(one));
  }
  const std::vector<std::string> feeds = cli.GetAll("feed");
  const std::vector<std::string> fetches = cli.GetAll("fetch");
  const std::vector<std::string> targets = cli.GetAll("target");
  const bool signature_mode = !inputs.empty() || cli.Has("signature") || cli.Has("signature_def");
  const bool tensor_mode = !feeds.empty() || !fetches.empty() || !targets.empty();
  if (signature_mode && tensor_mode) {
    return cli.Fail("use either --input/--signature (a signature) or --feed/--fetch/--target "
                    "(tensors by name), not both");
  }

  ckpt::Env* env = ckpt::Env::Default();
  if (!env->FileExists(model_path)) return cli.Fail(absl::StrCat("no such file or directory: ", model_path));
  if (absl::EndsWith(model_path, "saved_model.pb") && !env->IsDirectory(model_path)) {
    const size_t slash = model_path.rfind('/');
    model_path = slash == std::string::npos ? "." : model_path.substr(0, slash);
  }
  const bool saved_model = env->IsDirectory(model_path);

  std::vector<NamedTensor> outputs;
  // Declared here: the outputs may alias memory of the model they came from.
  std::unique_ptr<ckpt::SavedModelBundle> bundle;
  ckpt::ImportedMetaGraph meta;
  std::unique_ptr<ckpt::Session> session;
  if (saved_model) {
    if (cli.Has("checkpoint")) {
      return cli.Fail("--checkpoint is for a .meta MODEL; a SavedModel restores its own variables");
    }
    if (!tensor_mode && inputs.empty()) {
      return cli.Fail("nothing to run: give the signature's inputs with --input KEY=VALUE (see --help)");
    }
    std::vector<std::string> tags;
    for (absl::string_view tag : absl::StrSplit(cli.Get("tag_set", "serve"), ',', absl::SkipEmpty())) {
      tags.emplace_back(tag);
    }
    absl::StatusOr<std::unique_ptr<ckpt::SavedModelBundle>> loaded = ckpt::LoadSavedModel(model_path, tags);
    if (!loaded.ok()) return cli.Fail(loaded.status());
    bundle = std::move(*loaded);
    absl::StatusOr<std::vector<NamedTensor>> run =
        tensor_mode ? RunTensors(&bundle->graph(), &bundle->session(), feeds, fetches, targets)
                    : RunSignature(bundle.get(),
                                   cli.Get("signature", cli.Get("signature_def", "serving_default")),
                                   inputs);
    if (!run.ok()) return cli.Fail(run.status());
    outputs = std::move(*run);
  } else {
    if (signature_mode || cli.Has("tag_set")) {
      return cli.Fail(absl::StrCat(model_path, " is not a SavedModel directory: --input, --signature "
                                   "and --tag_set need one (a .meta takes --feed/--fetch)"));
    }
    if (fetches.empty() && targets.empty()) {
      return cli.Fail("nothing to run: give --fetch NAME:0 or --target OP (see --help)");
    }
    absl::StatusOr<ckpt::ImportedMetaGraph> imported = ckpt::ImportMetaGraph(model_path);
    if (!imported.ok()) return cli.Fail(Annotate(imported.status(), absl::StrCat("importing ", model_path)));
    meta = std::move(*imported);
    session = std::make_unique<ckpt::Session>(meta.graph.get());
    if (cli.Has("checkpoint")) {
      absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(cli.Get("checkpoint"));
      if (!prefix.ok()) return cli.Fail(prefix.status());
      if (meta.saver == nullptr) {
        return cli.Fail(absl::StrCat(model_path, " has no saver (no saver_def): cannot restore ", *prefix));
      }
      absl::Status restored = meta.saver->Restore(session.get(), *prefix);
      if (!restored.ok()) return cli.Fail(Annotate(restored, absl::StrCat("restoring ", *prefix)));
    }
    absl::StatusOr<std::vector<NamedTensor>> run =
        RunTensors(meta.graph.get(), session.get(), feeds, fetches, targets);
    if (!run.ok()) return cli.Fail(run.status());
    outputs = std::move(*run);
  }

  std::vector<std::string> files;
  if (cli.Has("output_dir")) {
    absl::StatusOr<std::vector<std::string>> written =
        WriteOutputs(outputs, cli.Get("output_dir"), cli.Has("overwrite"));
    if (!written.ok()) return cli.Fail(written.status());
    files = std::move(*written);
  }

  if (cli.Has("json")) {
    nlohmann::ordered_json doc;
    doc["outputs"] = nlohmann::ordered_json::array();
    for (size_t i = 0; i < outputs.size(); ++i) {
      const ckpt::Tensor& t = outputs[i].value;
      nlohmann::ordered_json o;
      o["name"] = outputs[i].name;
      o["dtype"] = ckpt::DTypeName(t.dtype());
      o["shape"] = t.shape().dims();
      o["values"] = JsonValues(t);
      if (!files.empty()) o["file"] = files[i];
      doc["outputs"].push_back(std::move(o));
    }
    std::cout << JsonText(doc);
    return kExitOk;
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    const ckpt::Tensor& t = outputs[i].value;
    if (i > 0) std::cout << "\n";
    std::cout << DisplayName(outputs[i].name) << ": " << ckpt::DTypeName(t.dtype())
              << t.shape().DebugString() << "\n"
              << FormatValues(t, max_elements) << "\n";
    if (!files.empty()) std::cout << "saved to " << DisplayName(files[i]) << "\n";
  }
  return kExitOk;
}
