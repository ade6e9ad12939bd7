#include "tools/commands/exec_self.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace attnlab::tools {

void exec_self(const Args& args) {
  std::vector<std::string> strings = {"attnlab"};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "attnlab: cannot run /proc/self/exe: %s\n", std::strerror(errno));
  ::_exit(127);
}

}  // namespace attnlab::tools
