// The subcommands of `attnlab`. Each takes its arguments (after the subcommand name) and returns
// the process exit code: 0 success, 2 a user error (already printed as one line), others as
// documented in the README.
#pragma once

#include <string>
#include <vector>

namespace attnlab::tools {

using Args = std::vector<std::string>;

int train_command(const Args& args);
int eval_command(const Args& args);
int config_command(const Args& args);
int list_command(const Args& args);
int calibrate_command(const Args& args);
int launch_command(const Args& args);

// True when args contain -h or --help.
bool wants_help(const Args& args);

}  // namespace attnlab::tools
