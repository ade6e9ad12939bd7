#include "tools/bench/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/errors.h"
#include "tools/commands/exec_self.h"

namespace attnlab::tools {

int run_logged(const std::vector<std::string>& args, const std::string& log, const std::string& program) {
  const pid_t pid = ::fork();
  if (pid < 0) throw UserError("bench: cannot start a process");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    if (program.empty()) exec_self(args);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(program.c_str(), argv.data());
    std::perror(program.c_str());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string log_tail(const std::string& log, size_t bytes) {
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  std::string tail = text.str();
  return tail.size() > bytes ? tail.substr(tail.size() - bytes) : tail;
}

ScratchDir::ScratchDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw UserError("bench: cannot create a temporary directory in /tmp");
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace attnlab::tools
