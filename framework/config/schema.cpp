// Declaring schemas: the key specs a component publishes (type, default, bounds, choices, doc)
// and their human descriptions. Checking a recipe against them is validate.cpp.
#include "framework/config/schema.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace attnlab::config {

namespace {

// Shortest text that reads back as exactly `v` ("0.1", not "0.10000000000000001"); to_chars is
// also independent of the C locale's decimal separator.
std::string shortest(double v) {
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string number_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return shortest(v);
}

// A float default must read back as a float-looking scalar: 1.0 is "1.0", not "1".
std::string float_yaml(double v) {
  std::string s = number_text(v);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

}  // namespace

const char* type_name(Type t) {
  switch (t) {
    case Type::Bool: return "boolean";
    case Type::Int: return "integer";
    case Type::Float: return "number";
    case Type::String: return "string";
    case Type::IntList: return "list of integers";
    case Type::FloatList: return "list of numbers";
    case Type::StringList: return "list of strings";
    case Type::Map: return "map";
    case Type::Any: return "any value";
    case Type::Component: return "component";
    case Type::ComponentList: return "list of components";
  }
  return "unknown";
}

std::string KeySpec::describe_constraint() const {
  std::string range;
  if (min && max) {
    range = std::string("in ") + (min_exclusive ? "(" : "[") + number_text(*min) + ", " +
            number_text(*max) + (max_exclusive ? ")" : "]");
  } else if (min) {
    range = std::string(min_exclusive ? "> " : ">= ") + number_text(*min);
  } else if (max) {
    range = std::string(max_exclusive ? "< " : "<= ") + number_text(*max);
  }
  std::string one_of = choices.empty() ? "" : "one of: " + join(choices);
  if (!range.empty() && !one_of.empty()) return range + "; " + one_of;
  return range.empty() ? one_of : range;
}

KeySpec& Schema::add(const std::string& name, Type type, std::optional<std::string> default_yaml,
                     const std::string& doc) {
  // Two specs for one key would make validation depend on declaration order: a schema bug.
  if (find(name)) throw std::logic_error("schema declares key '" + name + "' twice");
  KeySpec spec;
  spec.name = name;
  spec.type = type;
  spec.doc = doc;
  spec.default_yaml = std::move(default_yaml);
  keys_.push_back(std::move(spec));
  return keys_.back();
}

KeySpec& Schema::add_bool(const std::string& name, bool def, const std::string& doc) {
  return add(name, Type::Bool, def ? "true" : "false", doc);
}

KeySpec& Schema::add_int(const std::string& name, int64_t def, const std::string& doc) {
  return add(name, Type::Int, std::to_string(def), doc);
}

KeySpec& Schema::add_float(const std::string& name, double def, const std::string& doc) {
  return add(name, Type::Float, float_yaml(def), doc);
}

KeySpec& Schema::add_string(const std::string& name, const std::string& def,
                            const std::string& doc) {
  // Quoted only where plain YAML would read something else ("", "null", "a: b").
  return add(name, Type::String, yaml_scalar(def, false), doc);
}

KeySpec& Schema::add_component(const std::string& name, const std::string& kind,
                               std::optional<std::string> default_yaml, const std::string& doc) {
  KeySpec& spec = add(name, Type::Component, std::move(default_yaml), doc);
  spec.component_kind = kind;
  return spec;
}

KeySpec& Schema::add_component_list(const std::string& name, const std::string& kind,
                                    const std::string& doc) {
  KeySpec& spec = add(name, Type::ComponentList, "[]", doc);
  spec.component_kind = kind;
  return spec;
}

const KeySpec* Schema::find(const std::string& name) const {
  for (const KeySpec& spec : keys_)
    if (spec.name == name) return &spec;
  return nullptr;
}

}  // namespace attnlab::config
