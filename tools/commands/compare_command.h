// `attnlab compare RUN_DIR... [--html FILE]`: final metrics across runs.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

int compare_command(const Args& args);

}  // namespace attnlab::tools
