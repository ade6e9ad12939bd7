// `attnlab generate RUN_DIR --prompt TEXT [options]`: continues a prompt with a language model
// trained on a `text` corpus; the decoding itself is tools/commands/text_generation.h.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

// 0 after printing prompt + continuation on stdout; UserError (exit 2) for bad options, a run
// directory that cannot be loaded, or a run whose data is not a text corpus.
int generate_command(const Args& args);

}  // namespace attnlab::tools
