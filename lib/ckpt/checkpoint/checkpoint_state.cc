// The `checkpoint` state file (FORMAT.md §7): text-format CheckpointState,
// written byte for byte as TensorFlow's Python writes it.
#include "ckpt/checkpoint_state.h"

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ckpt/io/path.h"
#include "ckpt/status_macros.h"
#include "ckpt/v1_reader.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/text_format.h"

namespace ckpt {
namespace {

// TensorFlow writes this file with Python's text_format, which renders a
// string field as its UTF-8 bytes with C escapes for \n \r \t " ' and \,
// and three-digit octal for every other byte outside 0x20..0x7E (so all
// non-ASCII UTF-8 becomes octal, e.g. "é" is \303\251).
void AppendQuoted(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '"': out->append("\\\""); break;
      case '\'': out->append("\\'"); break;
      case '\\': out->append("\\\\"); break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          out->push_back('\\');
          out->push_back(static_cast<char>('0' + (c >> 6)));
          out->push_back(static_cast<char>('0' + ((c >> 3) & 7)));
          out->push_back(static_cast<char>('0' + (c & 7)));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// Python's text_format prints a double field with str(value), i.e. Python's
// float repr; protobuf's C++ TextFormat uses a different rendering (%.17g
// with a round-trip check), so its output would not match TensorFlow's files
// byte for byte. repr is the shortest digit string that reads back as the
// same double, laid out in plain decimal with at least one fractional digit
// ("1734403149.0") when the decimal exponent e of d.ddd×10^e satisfies
// -4 <= e < 16, and otherwise as d.ddde±XX with at least two exponent digits
// ("1e+16", "1e-05"). Infinities and NaN are "inf", "-inf" and "nan".
void AppendPythonDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("nan");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-inf" : "inf");
    return;
  }
  // Shortest round-trip digits in scientific form: "-d.ddde+XX" or "de-XX".
  char buf[64];
  std::to_chars_result r =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  absl::string_view sci(buf, r.ec == std::errc() ? r.ptr - buf : 0);
  size_t e_pos = sci.find('e');
  if (e_pos == absl::string_view::npos) {
    out->append("nan");  // unreachable for a finite double
    return;
  }
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  int exp = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());

  if (std::signbit(v)) out->push_back('-');
  if (exp < -4 || exp >= 16) {
    out->push_back(digits[0]);
    if (digits.size() > 1) {
      out->push_back('.');
      out->append(digits, 1, std::string::npos);
    }
    out->push_back('e');
    out->push_back(exp < 0 ? '-' : '+');
    int mag = std::abs(exp);
    if (mag < 10) out->push_back('0');
    absl::StrAppend(out, mag);
  } else if (exp >= 0) {
    size_t int_len = static_cast<size_t>(exp) + 1;
    if (digits.size() <= int_len) {
      out->append(digits);
      out->append(int_len - digits.size(), '0');
      out->append(".0");
    } else {
      out->append(digits, 0, int_len);
      out->push_back('.');
      out->append(digits, int_len, std::string::npos);
    }
  } else {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits);
  }
}

// Remembers the parser's first error; the parser stops there anyway.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_) error_ = Error{line, column, message};
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber,
                  const std::string&) override {}

  struct Error {
    int line;    // 0-based
    int column;  // 0-based
    std::string message;
  };
  const std::optional<Error>& error() const { return error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace

std::string FormatCheckpointState(const ::tensorflow::CheckpointState& state) {
  std::string out;
  // proto3 scalars are written only when they differ from the default; like
  // protobuf's own presence test, that compares bits, so -0.0 is written.
  if (!state.model_checkpoint_path().empty()) {
    out.append("model_checkpoint_path: ");
    AppendQuoted(state.model_checkpoint_path(), &out);
    out.push_back('\n');
  }
  for (const std::string& p : state.all_model_checkpoint_paths()) {
    out.append("all_model_checkpoint_paths: ");
    AppendQuoted(p, &out);
    out.push_back('\n');
  }
  for (double t : state.all_model_checkpoint_timestamps()) {
    out.append("all_model_checkpoint_timestamps: ");
    AppendPythonDouble(t, &out);
    out.push_back('\n');
  }
  double last = state.last_preserved_timestamp();
  if (last != 0.0 || std::signbit(last)) {
    out.append("last_preserved_timestamp: ");
    AppendPythonDouble(last, &out);
    out.push_back('\n');
  }
  return out;
}

absl::StatusOr<::tensorflow::CheckpointState> ParseCheckpointState(
    absl::string_view text, absl::string_view source) {
  if (text.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": checkpoint state of ", text.size(),
                     " bytes is too large to parse"));
  }
  google::protobuf::io::ArrayInputStream input(text.data(),
                                               static_cast<int>(text.size()));
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  ::tensorflow::CheckpointState state;
  if (!parser.Parse(&input, &state)) {
    if (!errors.error()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": cannot parse checkpoint state"));
    }
    const FirstErrorCollector::Error& e = *errors.error();
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": cannot parse checkpoint state at line ", e.line + 1,
                     ", column ", e.column + 1, ": ", e.message));
  }
  return state;
}

absl::StatusOr<::tensorflow::CheckpointState> ReadCheckpointState(
    Env* env, const std::string& dir, const std::string& state_file) {
  if (env == nullptr) env = Env::Default();
  const std::string path = JoinPath(dir, state_file);
  CKPT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(env, path));
  CKPT_ASSIGN_OR_RETURN(::tensorflow::CheckpointState state,
                        ParseCheckpointState(text, path));
  if (state.model_checkpoint_path().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": checkpoint state has an empty model_checkpoint_path"));
  }
  return state;
}

absl::Status WriteCheckpointState(Env* env, const std::string& dir,
                                  const ::tensorflow::CheckpointState& state,
                                  const std::string& state_file) {
  if (env == nullptr) env = Env::Default();
  const std::string path = JoinPath(dir, state_file);
  const std::string& model = state.model_checkpoint_path();
  // An empty path would write a file that every reader rejects.
  if (model.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": refusing to write a checkpoint state with an empty model_checkpoint_path"));
  }
  // TensorFlow compares the stored path; a relative one is also read back
  // relative to `dir`, so that resolved form must not be the state file either.
  if (model == path || JoinPath(dir, model) == path) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint path '", model, "' conflicts with the checkpoint state file ", path,
        "; save the checkpoint under another name"));
  }
  ::tensorflow::CheckpointState out = state;
  const auto& paths = out.all_model_checkpoint_paths();
  if (paths.empty() || paths[paths.size() - 1] != model) {
    out.add_all_model_checkpoint_paths(model);
  }
  if (out.all_model_checkpoint_timestamps_size() != 0 &&
      out.all_model_checkpoint_timestamps_size() != out.all_model_checkpoint_paths_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint state has ", out.all_model_checkpoint_paths_size(),
        " paths but ", out.all_model_checkpoint_timestamps_size(),
        " timestamps; timestamps, when present, must match the paths one to one"));
  }
  return WriteFileAtomically(env, path, FormatCheckpointState(out));
}

bool CheckpointExists(Env* env, const std::string& prefix) {
  if (env == nullptr) env = Env::Default();
  if (prefix.empty()) return false;
  if (env->FileExists(prefix + ".index")) return true;
  if (env->FileExists(prefix)) return !env->IsDirectory(prefix);
  // A sharded V1 checkpoint: P-?????-of-N as TensorFlow names it, or the
  // P of its P-00000-of-N files.
  return V1CheckpointFiles(prefix, env).ok();
}

absl::StatusOr<std::string> LatestCheckpoint(const std::string& dir, Env* env,
                                             const std::string& state_file) {
  if (env == nullptr) env = Env::Default();
  CKPT_ASSIGN_OR_RETURN(::tensorflow::CheckpointState state,
                        ReadCheckpointState(env, dir, state_file));
  const std::string prefix = JoinPath(dir, state.model_checkpoint_path());
  if (CheckpointExists(env, prefix)) return prefix;

  const std::string state_path = JoinPath(dir, state_file);
  std::string looked_for = absl::StrCat(prefix, ".index or ", prefix);
  // A directory that was moved or copied keeps absolute paths from its old
  // place; the checkpoint it names may sit beside the state file instead.
  const std::string base = BaseName(prefix);
  if (!base.empty()) {
    const std::string moved = JoinPath(dir, base);
    if (moved != prefix) {
      if (CheckpointExists(env, moved)) return moved;
      absl::StrAppend(&looked_for, ", nor ", moved, ".index or ", moved);
    }
  }
  return absl::NotFoundError(absl::StrCat(state_path, " names checkpoint ", prefix,
                                          ", but there is no ", looked_for));
}

}  // namespace ckpt
