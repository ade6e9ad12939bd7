// Named factories of one kind (DESIGN.md §3): name -> factory, each with a documented schema.
// Registering also records the schema in the global Catalog, so recipes are validated against it
// and `attnlab list` prints it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <c10/util/Exception.h>

#include "framework/config/schema.h"
#include "framework/registry/catalog.h"

namespace attnlab::registry {

template <typename Factory>
class Registry {
 public:
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, const std::string& doc, config::Schema schema, Factory factory) {
    TORCH_INTERNAL_ASSERT(!factories_.count(name), "duplicate ", kind_, " '", name, "'");
    Catalog::global().add(ComponentInfo{kind_, name, doc, std::move(schema)});
    factories_.emplace(name, std::move(factory));
  }
  bool contains(const std::string& name) const { return factories_.count(name) > 0; }
  // Validation has already rejected unknown names; reaching an unknown one here is a bug.
  const Factory& get(const std::string& name) const {
    auto it = factories_.find(name);
    TORCH_INTERNAL_ASSERT(it != factories_.end(), "no ", kind_, " named '", name, "' registered");
    return it->second;
  }
  const std::string& kind() const { return kind_; }
  std::vector<std::string> names() const {  // sorted
    std::vector<std::string> out;
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;
  }

 private:
  std::string kind_;
  std::map<std::string, Factory> factories_;
};

}  // namespace attnlab::registry
