// Command-line handling shared by the tools.
//
// Written here rather than taken from Abseil's flags library because that
// parser exits with status 1 on --help and on a bad flag, while our tools
// promise Unix exit codes: 0 for --help, 2 for a usage error.
#ifndef CKPT_TOOLS_COMMON_CLI_H_
#define CKPT_TOOLS_COMMON_CLI_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ckpt {
namespace tools {

// Exit codes of every tool.
constexpr int kExitOk = 0;
constexpr int kExitDifferent = 1;  // a difference or a failed check
constexpr int kExitError = 2;      // usage or I/O error

struct FlagSpec {
  std::string name;         // without dashes
  bool takes_value;         // --name=V or --name V; else a boolean switch
  bool repeatable = false;
  std::string help;
};

class CommandLine {
 public:
  CommandLine(std::string program, std::string synopsis, std::vector<FlagSpec> flags);
  // Parses argv. On --help prints usage to stdout and returns kExitOk in
  // *exit_code with false; on a usage error prints it to stderr and sets
  // kExitError with false. True when the tool should run.
  bool Parse(int argc, char** argv, int* exit_code);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Usage() const;
  // Prints "<program>: <message>" to stderr and returns kExitError.
  int Fail(const std::string& message) const;
  int Fail(const absl::Status& status) const;

 private:
  std::string program_;
  std::string synopsis_;
  std::vector<FlagSpec> flags_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace tools
}  // namespace ckpt

#endif  // CKPT_TOOLS_COMMON_CLI_H_
