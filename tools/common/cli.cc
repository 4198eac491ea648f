#include "common/cli.h"

#include <iostream>

#include "absl/strings/str_cat.h"

namespace ckpt {
namespace tools {

CommandLine::CommandLine(std::string program, std::string synopsis, std::vector<FlagSpec> flags)
    : program_(std::move(program)), synopsis_(std::move(synopsis)), flags_(std::move(flags)) {}

std::string CommandLine::Usage() const {
  std::string out = synopsis_;
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += "\nOptions:\n";
  for (const FlagSpec& f : flags_) {
    std::string left = absl::StrCat("  --", f.name, f.takes_value ? "=VALUE" : "");
    if (left.size() < 26) left.resize(26, ' ');
    else left += "\n                          ";
    absl::StrAppend(&out, left, f.help, f.repeatable ? " (repeatable)" : "", "\n");
  }
  absl::StrAppend(&out, "  --help                  show this help and exit\n",
                  "\nExit status: 0 ok, 1 difference or failed check, 2 usage or I/O error.\n");
  return out;
}

int CommandLine::Fail(const std::string& message) const {
  std::cerr << program_ << ": " << message << "\n";
  return kExitError;
}

int CommandLine::Fail(const absl::Status& status) const {
  return Fail(std::string(status.message()));
}

bool CommandLine::Parse(int argc, char** argv, int* exit_code) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' ) {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << Usage();
      *exit_code = kExitOk;
      return false;
    }
    std::string body = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    size_t eq = body.find('=');
    if (eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : flags_) {
      if (f.name == name) spec = &f;
    }
    if (spec == nullptr) {
      *exit_code = Fail(absl::StrCat("unknown option '", arg, "' (see --help)"));
      return false;
    }
    if (spec->takes_value && !has_value) {
      if (i + 1 >= argc) {
        *exit_code = Fail(absl::StrCat("option --", name, " needs a value"));
        return false;
      }
      value = argv[++i];
    } else if (!spec->takes_value && has_value) {
      if (value != "true" && value != "false") {
        *exit_code = Fail(absl::StrCat("option --", name, " takes no value"));
        return false;
      }
      if (value == "false") {
        values_.erase(name);
        continue;
      }
    }
    if (!spec->repeatable && values_.count(name) > 0) {
      *exit_code = Fail(absl::StrCat("option --", name, " given twice"));
      return false;
    }
    values_[name].push_back(value);
  }
  return true;
}

std::string CommandLine::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> CommandLine::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace tools
}  // namespace ckpt
