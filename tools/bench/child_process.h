// Running one measured command in a child process with its output in a log file, for the
// benchmarks: every measurement gets a fresh process (its own peak memory, thread pools, caches).
#pragma once

#include <string>
#include <vector>

namespace attnlab::tools {

// `attnlab ARGS...` (this binary) or, with `program` set, execvp(program, ARGS...); stdout and
// stderr go to `log`. Returns the exit code (128 + signal when killed).
int run_logged(const std::vector<std::string>& args, const std::string& log, const std::string& program = "");
// The last `bytes` bytes of a log, for error messages.
std::string log_tail(const std::string& log, size_t bytes = 600);

// A new directory under /tmp (name "<prefix>-XXXXXX"), removed with its contents when this goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace attnlab::tools
