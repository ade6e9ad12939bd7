// `attnlab report RUN_DIR [--output FILE] [--examples N] [--split NAME] [--checkpoint best|last]`.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

int report_command(const Args& args);

}  // namespace attnlab::tools
