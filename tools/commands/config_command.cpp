// `attnlab config RECIPE [overrides] [--plain]`: the resolved, validated recipe with provenance.
#include <cstdio>

#include "framework/run/recipe.h"
#include "tools/commands/commands.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab config RECIPE [key=value ...] [--plain]\n"
    "\n"
    "Resolves includes, overrides and ${env:VAR}, validates every key against the registered\n"
    "schemas (reporting every problem at once), fills defaults, and prints the recipe that\n"
    "`attnlab train` would run. Each value is followed by where it came from (file:line:col, the\n"
    "command line, or default); --plain leaves those out.\n";

}  // namespace

int config_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  bool plain = false;
  Args overrides;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--plain") plain = true;
    else overrides.push_back(args[i]);
  }
  const run::Recipe recipe = run::load_recipe(args[0], overrides);
  std::fputs(recipe.tree.to_yaml(!plain).c_str(), stdout);
  return 0;
}

}  // namespace attnlab::tools
