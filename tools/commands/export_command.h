// `attnlab export RUN_DIR|CHECKPOINT [--format safetensors] [--checkpoint best|last] [--output FILE]`.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

int export_command(const Args& args);

}  // namespace attnlab::tools
