// The catalog of every registered component: (kind, name) -> doc and schema. Typed registries
// (registry.h) add to it; recipe validation and `attnlab list` read it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "framework/config/schema.h"

namespace attnlab::registry {

struct ComponentInfo {
  std::string kind;  // "dataset", "model", "attention", "optimizer", "schedule", "regularizer", "metric"
  std::string name;
  std::string doc;
  config::Schema schema;
};

class Catalog {
 public:
  static Catalog& global();

  void add(ComponentInfo info);  // a duplicate (kind, name) is an internal error
  const ComponentInfo* find(const std::string& kind, const std::string& name) const;
  std::vector<std::string> names(const std::string& kind) const;  // sorted
  std::vector<std::string> kinds() const;                         // sorted
  // For config::validate: looks components up here.
  config::SchemaLookup lookup() const;

 private:
  std::map<std::string, std::map<std::string, ComponentInfo>> by_kind_;
};

}  // namespace attnlab::registry
