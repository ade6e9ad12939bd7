// Schemas: every component declares its keys (type, default, allowed range or choices, one-line
// doc). Validation checks a recipe section against its schema, fills defaults (with origin
// "default"), and collects every problem into one list instead of stopping at the first:
//   recipes/q.yaml:12:5: model.layrs: unknown key (did you mean 'layers'?); valid keys: ...
//   recipes/q.yaml:14:13: train.steps: expected an integer, got 'ten'
//   command line 'optim.lr=-1': optim.lr: -1 is out of range, expected > 0
//   recipes/q.yaml:3:9: model.attention.name: unknown attention 'mhaa' (did you mean 'mha'?)
// Keys of type Component hold a nested component block `{name: X, ...}` whose schema is looked up
// by (kind, name) through a SchemaLookup (the registry), so validation recurses into it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/did_you_mean.h"
#include "framework/config/problems.h"
#include "framework/config/value.h"

namespace attnlab::config {

enum class Type {
  Bool,
  Int,
  Float,        // accepts integers too
  String,
  IntList,
  FloatList,
  StringList,
  Map,          // free-form map (not validated further)
  Any,          // anything (not validated further)
  Component,    // nested component block {name: X, ...}, validated by the schema of (kind, X)
  ComponentList // list of component blocks of one kind (e.g. regularizers)
};
const char* type_name(Type t);  // "integer", "number", "list of integers", ...

struct KeySpec {
  std::string name;
  Type type = Type::String;
  std::string doc;
  std::optional<std::string> default_yaml;  // YAML text of the default; nullopt + !required = optional, absent
  bool required = false;
  std::optional<double> min, max;            // numeric bounds (inclusive unless *_exclusive)
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;          // for String (and StringList elements)
  std::string component_kind;                // for Component / ComponentList: "attention", ...

  // Fluent refinements: schema.add_int("heads", 4, "number of heads").at_least(1);
  KeySpec& at_least(double v) { min = v; min_exclusive = false; return *this; }
  KeySpec& greater_than(double v) { min = v; min_exclusive = true; return *this; }
  KeySpec& at_most(double v) { max = v; max_exclusive = false; return *this; }
  KeySpec& less_than(double v) { max = v; max_exclusive = true; return *this; }
  KeySpec& one_of(std::vector<std::string> c) { choices = std::move(c); return *this; }
  KeySpec& make_required() { required = true; default_yaml.reset(); return *this; }
  std::string describe_constraint() const;   // "> 0", "in [0, 1]", "one of: a, b"
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::string doc) : doc_(std::move(doc)) {}

  KeySpec& add_bool(const std::string& name, bool def, const std::string& doc);
  KeySpec& add_int(const std::string& name, int64_t def, const std::string& doc);
  KeySpec& add_float(const std::string& name, double def, const std::string& doc);
  KeySpec& add_string(const std::string& name, const std::string& def, const std::string& doc);
  // Lists, maps, Any: default given as YAML text ("[]", "[1, 2]", "{}"); nullopt = absent.
  KeySpec& add(const std::string& name, Type type, std::optional<std::string> default_yaml,
               const std::string& doc);
  // A nested component of `kind`; default_yaml like "{name: mha}" or nullopt (required if
  // `required`).
  KeySpec& add_component(const std::string& name, const std::string& kind,
                         std::optional<std::string> default_yaml, const std::string& doc);
  KeySpec& add_component_list(const std::string& name, const std::string& kind,
                              const std::string& doc);  // default []

  // Every map carries `name` for components; schemas for components get it implicitly.
  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* find(const std::string& name) const;
  const std::string& doc() const { return doc_; }

 private:
  std::string doc_;
  std::vector<KeySpec> keys_;
};

// Finds the schema of component `name` of `kind` (nullptr if unknown) and the names known for a
// kind (for did-you-mean). Implemented by the registry's catalog.
struct SchemaLookup {
  std::function<const Schema*(const std::string& kind, const std::string& name)> find;
  std::function<std::vector<std::string>(const std::string& kind)> names;
};

// Validates map `section` (at dotted `path`) against `schema` in place: fills defaults, checks
// types, ranges, choices, unknown keys (did-you-mean), required keys, and recurses into
// components. For a component section the `name` key is allowed and required. Problems are
// appended; nothing is thrown.
void validate(Value& section, const Schema& schema, const std::string& path,
              const SchemaLookup& lookup, std::vector<Problem>& problems,
              bool is_component = false);

// Validates a component block {name: X, ...} of `kind` at `path` (unknown name -> did-you-mean).
// A bare name (`attention: mha`) is shorthand for {name: mha} and is rewritten so in place.
void validate_component(Value& block, const std::string& kind, const std::string& path,
                        const SchemaLookup& lookup, std::vector<Problem>& problems);

// Problem and throw_if_problems (one UserError listing every problem, sorted by file and line)
// live in problems.h; did_you_mean in did_you_mean.h. Both are included above.

}  // namespace attnlab::config
