// `attnlab list [KIND]`: every registered component with its documented keys.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "framework/config/schema.h"
#include "framework/errors.h"
#include "framework/registry/catalog.h"
#include "tools/commands/commands.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab list [KIND]\n"
    "\n"
    "Prints every registered component (datasets, models, attention modules, optimizers,\n"
    "schedules, regularizers, metrics) and the recipe's own sections, with each key's type,\n"
    "default, allowed values and a one-line description. KIND limits the listing to one kind.\n";

std::string describe(const config::KeySpec& k) {
  std::ostringstream s;
  s << "    " << k.name << " (" << config::type_name(k.type);
  if (k.type == config::Type::Component || k.type == config::Type::ComponentList) s << " of kind " << k.component_kind;
  if (k.required) s << ", required";
  else if (k.default_yaml) s << ", default " << (k.default_yaml->empty() ? "\"\"" : *k.default_yaml);
  const std::string c = k.describe_constraint();
  if (!c.empty()) s << ", " << c;
  s << "): " << k.doc;
  return s.str();
}

}  // namespace

int list_command(const Args& args) {
  if (wants_help(args)) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const auto& catalog = registry::Catalog::global();
  std::vector<std::string> kinds = catalog.kinds();
  // Kinds without entries yet still exist as registries; show them so users know the slot.
  for (const char* k : {"regularizer"})
    if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) kinds.push_back(k);
  if (!args.empty()) {
    if (std::find(kinds.begin(), kinds.end(), args[0]) == kinds.end()) {
      std::string msg = "unknown kind '" + args[0] + "'";
      if (auto s = config::did_you_mean(args[0], kinds)) msg += " (did you mean '" + *s + "'?)";
      throw UserError(msg);
    }
    kinds = {args[0]};
  }
  for (const auto& kind : kinds) {
    std::printf("%s:\n", kind.c_str());
    const auto names = catalog.names(kind);
    if (names.empty()) std::printf("  (none registered in this build)\n");
    for (const auto& name : names) {
      const auto* info = catalog.find(kind, name);
      std::printf("  %s - %s\n", name.c_str(), info->doc.c_str());
      for (const auto& k : info->schema.keys()) std::printf("%s\n", describe(k).c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace attnlab::tools
