// `attnlab reproduce SUITE|SUITE_FILE [--output DIR] [--dry-run] [--only NAME] [key=value ...]`:
// trains the paper recipes a suite file (recipes/suites/<suite>.yaml) lists, each as a child
// `attnlab train`, then prints and saves the table of paper claim, our result, run directory and
// time. `attnlab reproduce --list` lists the suites.
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

// Returns 0 when every selected run trained and its metric was read; 1 when one failed or its
// metric is missing (the table is still written); 128 + signal when stopped by SIGINT/SIGTERM;
// a bad suite file or option is thrown as attnlab::UserError (main prints it, exit code 2).
int reproduce_command(const Args& args);

}  // namespace attnlab::tools
