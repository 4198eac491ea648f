#include "common/checkpoint_path.h"

#include <algorithm>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ckpt/checkpoint_state.h"
#include "ckpt/env.h"
#include "ckpt/naming.h"
#include "ckpt/v1_reader.h"

namespace ckpt {
namespace tools {

namespace {

// A legacy V1 checkpoint: its table file, a shard of a set or the set's
// ?????-pattern, or the prefix of a set. A V2 file's own name never is.
bool IsV1Path(Env* env, const std::string& path) {
  static const std::regex kV2File(R"(.*\.(index|meta|data-\d{5,}-of-\d{5,}))");
  if (std::regex_match(path, kV2File) || env->IsDirectory(path)) return false;
  return V1CheckpointFiles(path, env).ok();
}

}  // namespace

absl::StatusOr<std::string> ResolveCheckpointPrefix(const std::string& path_in) {
  Env* env = Env::Default();
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (env->FileExists(IndexFilename(path))) return path;
  // One of the prefix's own files.
  static const std::regex kDataFile(R"((.*)\.data-\d{5,}-of-\d{5,})");
  std::smatch m;
  if (absl::EndsWith(path, ".index") && env->FileExists(path)) {
    return path.substr(0, path.size() - 6);
  }
  if (std::regex_match(path, m, kDataFile) && env->FileExists(IndexFilename(m[1].str()))) {
    return m[1].str();
  }
  if (absl::EndsWith(path, ".meta") && env->FileExists(IndexFilename(path.substr(0, path.size() - 5)))) {
    return path.substr(0, path.size() - 5);
  }
  if (IsV1Path(env, path)) return path;
  if (absl::EndsWith(path, ".meta") && IsV1Path(env, path.substr(0, path.size() - 5))) {
    return path.substr(0, path.size() - 5);
  }
  if (env->IsDirectory(path)) {
    if (env->FileExists(path + "/" + kCheckpointStateFileName)) {
      // LatestCheckpoint also finds a sharded V1 checkpoint (P-?????-of-N).
      return LatestCheckpoint(path, env);
    }
    std::string saved_model = path + "/variables/variables";
    if (env->FileExists(IndexFilename(saved_model))) return saved_model;
    absl::StatusOr<std::vector<std::string>> children = env->GetChildren(path);
    std::vector<std::string> indexes;
    if (children.ok()) {
      for (const std::string& c : *children) {
        if (absl::EndsWith(c, ".index")) indexes.push_back(c.substr(0, c.size() - 6));
      }
    }
    std::sort(indexes.begin(), indexes.end());
    if (indexes.size() == 1) return path + "/" + indexes[0];
    return absl::NotFoundError(absl::StrCat(
        path, " is a directory without a 'checkpoint' file or variables/variables.index",
        indexes.empty() ? "" : absl::StrCat("; it holds the checkpoints ", absl::StrJoin(indexes, ", "),
                                            ": name one of them")));
  }
  // Say what is there: checkpoints beside the path the user typed.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  std::vector<std::string> nearby;
  absl::StatusOr<std::vector<std::string>> children = env->GetChildren(dir.empty() ? "/" : dir);
  if (children.ok()) {
    for (const std::string& c : *children) {
      if (absl::EndsWith(c, ".index")) nearby.push_back((dir == "." ? "" : dir + "/") + c.substr(0, c.size() - 6));
    }
  }
  std::sort(nearby.begin(), nearby.end());
  if (nearby.size() > 5) nearby.resize(5);
  return absl::NotFoundError(absl::StrCat(
      "no checkpoint at ", path, ": looked for ", IndexFilename(path),
      ", a checkpoint file of that name, and a directory",
      nearby.empty() ? (children.ok() ? absl::StrCat("; ", dir, " holds no checkpoint") : "")
                     : absl::StrCat("; checkpoints in ", dir, ": ", absl::StrJoin(nearby, ", "))));
}

}  // namespace tools
}  // namespace ckpt
