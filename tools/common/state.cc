#include "common/state.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/env.h"

namespace ckpt {
namespace tools {
namespace {

std::string UtcTime(double seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

absl::StatusOr<StateReport> DescribeCheckpointState(const std::string& path) {
  Env* env = Env::Default();
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!env->IsDirectory(dir)) {
    size_t slash = dir.rfind('/');
    dir = slash == std::string::npos ? "." : dir.substr(0, slash);
  }
  absl::StatusOr<tensorflow::CheckpointState> st = ReadCheckpointState(env, dir);
  if (!st.ok()) return st.status();
  StateReport r;
  r.json["directory"] = dir;
  r.json["model_checkpoint_path"] = st->model_checkpoint_path();
  absl::StatusOr<std::string> latest = LatestCheckpoint(dir, env);
  r.json["latest"] = latest.ok() ? nlohmann::ordered_json(*latest) : nlohmann::ordered_json(nullptr);
  r.text = absl::StrCat("checkpoint file: ", dir, "/", kCheckpointStateFileName, "\n",
                        "latest:          ", st->model_checkpoint_path(),
                        latest.ok() ? absl::StrCat(" -> ", *latest) : " (not found on disk)", "\n\n");
  const bool stamps = st->all_model_checkpoint_timestamps_size() == st->all_model_checkpoint_paths_size();
  size_t width = 4;
  for (const std::string& p : st->all_model_checkpoint_paths()) width = std::max(width, p.size());
  absl::StrAppend(&r.text, absl::StrFormat("%-*s  %-23s  %s\n", width, "path", "saved", "on disk"));
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (int i = 0; i < st->all_model_checkpoint_paths_size(); ++i) {
    const std::string& p = st->all_model_checkpoint_paths(i);
    std::string resolved = p.empty() || p[0] == '/' ? p : dir + "/" + p;
    bool exists = CheckpointExists(env, resolved);
    nlohmann::ordered_json item;
    item["path"] = p;
    item["resolved"] = resolved;
    if (stamps) item["timestamp"] = st->all_model_checkpoint_timestamps(i);
    item["exists"] = exists;
    list.push_back(item);
    absl::StrAppend(&r.text, absl::StrFormat(
        "%-*s  %-23s  %s\n", width, p,
        stamps ? UtcTime(st->all_model_checkpoint_timestamps(i)) : "-",
        exists ? "yes" : "MISSING"));
  }
  r.json["checkpoints"] = list;
  if (st->last_preserved_timestamp() != 0) {
    r.json["last_preserved_timestamp"] = st->last_preserved_timestamp();
    absl::StrAppend(&r.text, "\nlast preserved:  ", UtcTime(st->last_preserved_timestamp()), "\n");
  }
  return r;
}

}  // namespace tools
}  // namespace ckpt
