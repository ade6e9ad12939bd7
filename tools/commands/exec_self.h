// Replacing the current (forked) process with `attnlab ARGS...`, the same binary: for commands that
// start other attnlab commands (launch's workers, bench distributed's training runs).
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

// execv of /proc/self/exe with argv = {"attnlab", args...}; on failure prints why and _exit(127).
[[noreturn]] void exec_self(const Args& args);

}  // namespace attnlab::tools
