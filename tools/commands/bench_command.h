// `attnlab bench attention ...`: times forward + backward of the attention modules over sequence
// lengths and prints a table (optionally JSON). A tool, never a test (DESIGN.md §7). The
// measurement itself lives in tools/bench/attention_bench.h.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

// Returns the exit code: 0 after printing the table (failed rows included), 2 for bad options
// (thrown as attnlab::UserError, printed as one line by main).
int bench_command(const Args& args);

}  // namespace attnlab::tools
