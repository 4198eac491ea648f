// ckpt_dump PATH: what is in a checkpoint, whether it is intact, and the
// values, statistics, graph and state around it.
#include <fnmatch.h>

#include <cmath>
#include <functional>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/bundle_reader.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"
#include "ckpt/v1_reader.h"
#include "common/checkpoint_path.h"
#include "common/cli.h"
#include "common/format.h"
#include "common/json_out.h"
#include "common/listing.h"
#include "common/meta_summary.h"
#include "common/object_graph.h"
#include "common/state.h"
#include "common/stats.h"
#include "common/v1_dump.h"
#include "common/numeric.h"
#include "common/values.h"
#include "common/verify.h"

namespace {

using namespace ckpt::tools;

const char kSynopsis[] =
    "Usage: ckpt_dump [options] PATH\n"
    "Shows what is in a checkpoint. PATH is a prefix (model.ckpt), one of its files\n"
    "(.index, .data-*, .meta), a directory with a 'checkpoint' file (its latest\n"
    "checkpoint), or a SavedModel directory (its variables/variables). Legacy V1\n"
    "checkpoints (one table file, or PREFIX-\?\?\?\?\?-of-NNNNN shards) are read too.\n"
    "Without options: a header and one row per tensor (name, dtype, shape, bytes).";

std::string StatsLine(const TensorStats& st) {
  if (st.count == st.nan + st.inf) {
    return absl::StrCat("count ", st.count, "  nan ", st.nan, "  inf ", st.inf, "  (no finite values)");
  }
  return absl::StrFormat("min %.9g  max %.9g  mean %.9g  std %.9g\n  count %d  nan %d  inf %d  zeros %d  %s",
                         st.min, st.max, st.mean, st.std, st.count, st.nan, st.inf, st.zeros,
                         st.histogram.empty() ? "" : "|" + Sparkline(st.histogram) + "|");
}

nlohmann::ordered_json StatsJson(const TensorStats& st) {
  return {{"count", st.count}, {"nan", st.nan}, {"inf", st.inf}, {"zeros", st.zeros},
          {"min", JsonNumber(st.min)}, {"max", JsonNumber(st.max)},
          {"mean", JsonNumber(st.mean)}, {"std", JsonNumber(st.std)},
          {"histogram", st.histogram}};
}

// Reads one listed tensor whole (V2 or V1).
using ReadFn = std::function<absl::StatusOr<ckpt::Tensor>(const ckpt::BundleEntryInfo&)>;

// --tensor/--all_tensors values and --stats, per selected tensor of `entries`.
int RunValues(const CommandLine& cli, const std::vector<ckpt::BundleEntryInfo>& entries,
              const ReadFn& read, bool json, nlohmann::ordered_json* doc) {
  const std::vector<std::string> patterns = cli.GetAll("tensor");
  const bool all = cli.Has("all_tensors") || (patterns.empty() && cli.Has("stats"));
  const bool show_values = cli.Has("all_tensors") || !patterns.empty();
  int64_t max_elements = kDefaultMaxPrintedElements;
  if (cli.Has("max_elements") && !absl::SimpleAtoi(cli.Get("max_elements"), &max_elements)) {
    return cli.Fail("--max_elements needs a whole number");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const ckpt::BundleEntryInfo& e = entries[i];
    bool selected = all;
    for (size_t p = 0; p < patterns.size(); ++p) {
      if (patterns[p] == e.name || fnmatch(patterns[p].c_str(), e.name.c_str(), 0) == 0) {
        selected = true;
      }
    }
    if (!selected) continue;
    nlohmann::ordered_json* jt = json ? &(*doc)["tensors"][i] : nullptr;
    if (!json) std::cout << "\n" << DisplayName(e.name) << "  " << ckpt::DTypeName(e.dtype) << e.shape.DebugString() << "\n";
    if (e.dtype != ckpt::DT_STRING && !ckpt::DTypeIsFixedSize(e.dtype)) {
      if (!json) std::cout << "(values of dtype " << ckpt::DTypeName(e.dtype) << " cannot be decoded)\n";
      continue;
    }
    absl::StatusOr<ckpt::Tensor> t = read(e);
    if (!t.ok()) return cli.Fail(t.status());
    if (show_values) {
      if (json) {
        (*jt)["values"] = JsonValues(*t, max_elements);
        if (max_elements >= 0 && t->NumElements() > max_elements) (*jt)["values_truncated"] = true;
      } else {
        std::cout << FormatValues(*t, max_elements) << "\n";
      }
    }
    if (cli.Has("stats")) {
      absl::StatusOr<TensorStats> st = ComputeStats(*t);
      if (!st.ok()) {
        if (!json) std::cout << "(no statistics for " << ckpt::DTypeName(e.dtype) << ")\n";
        continue;
      }
      if (json) {
        (*jt)["stats"] = StatsJson(*st);
      } else {
        std::cout << "  " << StatsLine(*st) << "\n";
      }
    }
  }
  return kExitOk;
}

int RunVerify(const VerifyReport& report, bool json, nlohmann::ordered_json* doc) {
  if (json) {
    auto& tensors = (*doc)["tensors"];
    for (size_t i = 0; i < report.tensors.size(); ++i) {
      const TensorVerdict& v = report.tensors[i];
      tensors[i]["ok"] = v.ok;
      if (!v.checked) tensors[i]["checked"] = false;
      if (!v.ok) tensors[i]["error"] = std::string(v.status.message());
    }
    (*doc)["ok"] = report.ok();
    (*doc)["bad_tensors"] = report.bad;
    if (!report.structural_errors.empty()) (*doc)["file_errors"] = report.structural_errors;
  } else {
    for (const std::string& e : report.structural_errors) std::cout << "FILE   " << e << "\n";
    for (const TensorVerdict& v : report.tensors) {
      if (!v.ok) std::cout << "BAD    " << DisplayName(v.name) << ": " << DisplayName(v.status.message()) << "\n";
      if (!v.checked) std::cout << "SKIP   " << DisplayName(v.name) << ": dtype cannot be decoded\n";
    }
    std::cout << "verify: " << report.tensors.size() - report.bad - report.unchecked << " ok, "
              << report.bad << " bad"
              << (report.unchecked ? absl::StrCat(", ", report.unchecked, " not checkable") : "")
              << (report.structural_errors.empty()
                      ? ""
                      : absl::StrCat(", ", report.structural_errors.size(), " damaged data file(s)"))
              << "\n";
  }
  if (!report.structural_errors.empty()) return kExitError;
  return report.ok() ? kExitOk : kExitDifferent;
}

// kExitOk when every --tensor pattern names a tensor; else fails with the
// NotFound (and its suggestions) `not_found` gives for the first that does not.
int CheckPatterns(const CommandLine& cli, const std::vector<ckpt::BundleEntryInfo>& entries,
                  const std::function<absl::Status(const std::string&)>& not_found) {
  for (const std::string& pattern : cli.GetAll("tensor")) {
    bool any = false;
    for (const ckpt::BundleEntryInfo& e : entries) {
      any = any || pattern == e.name || fnmatch(pattern.c_str(), e.name.c_str(), 0) == 0;
    }
    if (!any) return cli.Fail(not_found(pattern));
  }
  return kExitOk;
}

// A legacy V1 checkpoint: the same sections, from V1Reader.
int DumpV1(const CommandLine& cli, const std::string& path, bool json) {
  if (cli.Has("object_graph")) {
    return cli.Fail(absl::StrCat("--object_graph: ", path,
                                 " is a V1 checkpoint, which has no object graph"));
  }
  absl::StatusOr<std::unique_ptr<ckpt::V1Reader>> reader = ckpt::V1Reader::Open(path);
  if (!reader.ok()) return cli.Fail(reader.status());
  const ckpt::V1Reader& r = **reader;
  const std::vector<ckpt::BundleEntryInfo> entries = V1Entries(r);
  int code = CheckPatterns(cli, entries, [&](const std::string& n) { return r.GetEntry(n).status(); });
  if (code != kExitOk) return code;
  nlohmann::ordered_json doc;
  if (json) {
    doc = V1ListingJson(r);
  } else {
    std::cout << V1ListingText(r);
  }
  if (cli.Has("tensor") || cli.Has("all_tensors") || cli.Has("stats")) {
    code = RunValues(
        cli, entries, [&](const ckpt::BundleEntryInfo& e) { return r.Read(e.name); }, json, &doc);
    if (code != kExitOk) return code;
  }
  if (cli.Has("verify")) {
    if (!json) std::cout << "\n";
    code = RunVerify(VerifyV1Checkpoint(r), json, &doc);
  }
  if (json) std::cout << JsonText(doc);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cli("ckpt_dump", kSynopsis,
                  {{"json", false, false, "print one JSON document (fields in README)"},
                   {"tensor", true, true,
                    "print the values of tensor NAME in NumPy's layout; * and ? glob"},
                   {"all_tensors", false, false, "print the values of every tensor"},
                   {"max_elements", true, false,
                    "summarize values with ... past this many elements (default 1000; -1: never)"},
                   {"stats", false, false,
                    "per tensor: min, max, mean, std, NaN/Inf/zero counts and a histogram "
                    "(of the --tensor ones, else of all)"},
                   {"verify", false, false,
                    "read every tensor and check every checksum; exit 1 if any is bad"},
                   {"meta", false, false,
                    "for a .meta, saved_model.pb or SavedModel dir: version, ops, variables, "
                    "saver, collections, signatures"},
                   {"object_graph", false, false,
                    "TF2 checkpoints: the saved object tree with each object's tensors and slots"},
                   {"state", false, false,
                    "the directory's 'checkpoint' file: checkpoints, times, which exist"}});
  int code = kExitOk;
  if (!cli.Parse(argc, argv, &code)) return code;
  if (cli.positional().size() != 1) return cli.Fail("expected one PATH (see --help)");
  const std::string path = cli.positional()[0];
  const bool json = cli.Has("json");

  if (cli.Has("meta")) {
    absl::StatusOr<MetaReport> meta = DescribeMeta(path);
    if (!meta.ok()) return cli.Fail(meta.status());
    std::cout << (json ? JsonText(meta->json) : meta->text);
    return kExitOk;
  }
  if (cli.Has("state")) {
    absl::StatusOr<StateReport> state = DescribeCheckpointState(path);
    if (!state.ok()) return cli.Fail(state.status());
    std::cout << (json ? JsonText(state->json) : state->text);
    return kExitOk;
  }

  absl::StatusOr<std::string> prefix = ResolveCheckpointPrefix(path);
  if (!prefix.ok()) return cli.Fail(prefix.status());
  if (!ckpt::Env::Default()->FileExists(ckpt::IndexFilename(*prefix))) {
    return DumpV1(cli, *prefix, json);
  }
  absl::StatusOr<std::unique_ptr<ckpt::BundleReader>> reader = ckpt::BundleReader::Open(*prefix);
  if (!reader.ok()) return cli.Fail(reader.status());
  const ckpt::BundleReader& r = **reader;

  // Sections that can fail do so before anything is printed.
  int code_patterns = CheckPatterns(cli, r.entries(),
                                    [&](const std::string& n) { return r.GetEntry(n).status(); });
  if (code_patterns != kExitOk) return code_patterns;
  absl::StatusOr<ObjectGraphReport> graph;
  if (cli.Has("object_graph")) {
    graph = DescribeObjectGraph(r);
    if (!graph.ok()) return cli.Fail(graph.status());
  }
  // Text output streams; only --json builds the document.
  nlohmann::ordered_json doc;
  if (json) {
    doc = ListingJson(r);
  } else {
    std::cout << ListingText(r);
  }
  int exit_code = kExitOk;
  if (cli.Has("object_graph")) {
    if (json) {
      doc["object_graph"] = graph->json;
    } else {
      std::cout << "\nobject graph (" << graph->json["num_nodes"].get<int>() << " nodes):\n"
                << graph->text;
    }
  }
  if (cli.Has("tensor") || cli.Has("all_tensors") || cli.Has("stats")) {
    int values_code = RunValues(
        cli, r.entries(),
        [&](const ckpt::BundleEntryInfo& e) {
          return e.slices.empty() ? r.ReadView(e.name) : r.Read(e.name);
        },
        json, &doc);
    if (values_code != kExitOk) return values_code;
  }
  if (cli.Has("verify")) {
    if (!json) std::cout << "\n";
    exit_code = RunVerify(VerifyCheckpoint(r), json, &doc);
  }
  if (json) std::cout << JsonText(doc);
  return exit_code;
}
