// The catalog of registered components: every typed Registry records (kind, name, doc, schema)
// here, so recipe validation can find a component's schema by name and `attnlab list` can print
// all of them. Registration happens during static initialisation, before main reads a recipe.
#include "framework/registry/catalog.h"

#include <c10/util/Exception.h>

namespace attnlab::registry {

Catalog& Catalog::global() {
  // A function-local static is constructed on first use, so registrations running in other
  // translation units' static initialisers never see it unconstructed.
  static Catalog catalog;
  return catalog;
}

void Catalog::add(ComponentInfo info) {
  auto& names = by_kind_[info.kind];
  TORCH_INTERNAL_ASSERT(!names.count(info.name), "duplicate ", info.kind, " '", info.name,
                        "' in the component catalog");
  std::string name = info.name;
  names.emplace(std::move(name), std::move(info));
}

const ComponentInfo* Catalog::find(const std::string& kind, const std::string& name) const {
  auto kind_it = by_kind_.find(kind);
  if (kind_it == by_kind_.end()) return nullptr;
  auto it = kind_it->second.find(name);
  return it == kind_it->second.end() ? nullptr : &it->second;
}

std::vector<std::string> Catalog::names(const std::string& kind) const {
  std::vector<std::string> out;
  auto kind_it = by_kind_.find(kind);
  if (kind_it == by_kind_.end()) return out;
  for (const auto& entry : kind_it->second) out.push_back(entry.first);  // std::map: sorted
  return out;
}

std::vector<std::string> Catalog::kinds() const {
  std::vector<std::string> out;
  for (const auto& entry : by_kind_)
    if (!entry.second.empty()) out.push_back(entry.first);
  return out;
}

config::SchemaLookup Catalog::lookup() const {
  // Captures `this`: the lookup is valid as long as the catalog (normally the global one) lives.
  // ComponentInfo lives in a std::map node, so the schema pointer survives later additions.
  config::SchemaLookup lookup;
  lookup.find = [this](const std::string& kind, const std::string& name) -> const config::Schema* {
    const ComponentInfo* info = find(kind, name);
    return info ? &info->schema : nullptr;
  };
  lookup.names = [this](const std::string& kind) { return names(kind); };
  return lookup;
}

}  // namespace attnlab::registry
