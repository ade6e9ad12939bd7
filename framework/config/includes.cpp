// Recipe files with `include:`: a recipe names other recipes (paths relative to its own
// directory); those are loaded first, in order, each with its own includes, deep-merged into one
// map, and the including file is merged on top. Includes form a chain that must not loop back
// on itself; the same file reached twice along different branches (a diamond) is fine.
#include <filesystem>

#include "framework/config/loader.h"
#include "framework/errors.h"

namespace attnlab::config {

namespace fs = std::filesystem;

void deep_merge(Value& base, Value top) {
  if (!base.is_map() || !top.is_map()) {
    base = std::move(top);
    return;
  }
  // The map on top is the one the user wrote last; messages about the map point there.
  base.set_origin(top.origin());
  for (auto& [key, value] : top.entries()) {
    if (Value* existing = base.find(key)) {
      deep_merge(*existing, std::move(value));
    } else {
      base.set(key, std::move(value));
    }
  }
}

namespace {

struct IncludeEntry {
  std::string path;  // as written
  Origin origin;     // where it was written
};

struct ChainLink {
  std::string display;  // path shown to the user (relative paths stay relative)
  fs::path identity;    // canonical path, to recognise the same file under different spellings
};

std::vector<IncludeEntry> include_entries(const Value& include) {
  auto not_a_path = [](const Value& v) {
    return UserError(v.origin().str() + ": include: expected a path or a list of paths, got a " +
                     kind_name(v.kind()));
  };
  std::vector<IncludeEntry> entries;
  if (include.is_null()) return entries;
  if (include.is_scalar()) return {{include.text(), include.origin()}};
  if (!include.is_list()) throw not_a_path(include);
  for (const Value& item : include.items()) {
    if (!item.is_scalar()) throw not_a_path(item);
    entries.push_back({item.text(), item.origin()});
  }
  return entries;
}

std::string chain_text(const std::vector<ChainLink>& chain, const std::string& last) {
  std::string s;
  for (const ChainLink& link : chain) s += link.display + " -> ";
  return s + last;
}

fs::path identity_of(const fs::path& p) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(p, ec);
  return ec ? fs::absolute(p).lexically_normal() : canonical;
}

Value load(const std::string& display, std::vector<ChainLink>& chain) {
  Value file = parse_yaml_file(display);
  if (file.is_null()) file = Value::map(file.origin());
  if (!file.is_map()) {
    throw UserError(file.origin().str() + ": a recipe is a map of keys, got a " +
                    kind_name(file.kind()));
  }

  Value merged = Value::map(file.origin());
  if (const Value* include = file.find("include")) {
    for (const IncludeEntry& entry : include_entries(*include)) {
      fs::path resolved = (fs::path(display).parent_path() / entry.path).lexically_normal();
      std::error_code ec;
      if (!fs::is_regular_file(resolved, ec)) {
        throw UserError(entry.origin.str() + ": include '" + entry.path +
                        "' not found (resolved to '" + resolved.string() + "')");
      }
      fs::path identity = identity_of(resolved);
      for (const ChainLink& link : chain) {
        if (link.identity == identity) {
          throw UserError(entry.origin.str() +
                          ": include cycle: " + chain_text(chain, resolved.string()));
        }
      }
      chain.push_back({resolved.string(), identity});
      deep_merge(merged, load(resolved.string(), chain));
      chain.pop_back();
    }
    file.erase("include");
  }
  deep_merge(merged, std::move(file));
  return merged;
}

}  // namespace

Value load_recipe_file(const std::string& path) {
  std::vector<ChainLink> chain{{path, identity_of(path)}};
  return load(path, chain);
}

}  // namespace attnlab::config
