// Checking a recipe section against a schema, in place: unknown keys (with a suggestion and the
// valid keys), missing required keys, defaults filled in (origin "default"), types, ranges and
// choices, and nested components looked up by (kind, name) and validated by their own schema.
// Every problem is collected so that one run reports everything wrong with a recipe.
#include <algorithm>
#include <stdexcept>

#include "framework/config/key_path.h"
#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/config/section.h"

namespace attnlab::config {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s;
}

// "'ten'", "the quoted string '10'", "a list" — what the user wrote, for "expected X, got Y".
std::string got(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Scalar: return (v.quoted() ? "the quoted string '" : "'") + v.text() + "'";
    case Value::Kind::List: return "a list";
    case Value::Kind::Map: return "a map";
  }
  return "?";
}

bool looks_like_decimal_integer(const std::string& t) {
  size_t start = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (start >= t.size()) return false;
  return std::all_of(t.begin() + static_cast<std::ptrdiff_t>(start), t.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool in_range(double x, const KeySpec& spec) {
  if (spec.min && !(spec.min_exclusive ? x > *spec.min : x >= *spec.min)) return false;
  if (spec.max && !(spec.max_exclusive ? x < *spec.max : x <= *spec.max)) return false;
  return true;
}

std::string range_only(const KeySpec& spec) {
  KeySpec bounds = spec;
  bounds.choices.clear();
  return bounds.describe_constraint();
}

Value default_value(const KeySpec& spec) {
  Value v;
  try {
    v = parse_yaml_text(*spec.default_yaml, "<default>");
  } catch (const std::exception& e) {
    throw std::logic_error("schema default of '" + spec.name + "' is not valid YAML: " + e.what());
  }
  v.set_origin_deep(Origin::defaulted());
  return v;
}

class Checker {
 public:
  Checker(const SchemaLookup& lookup, std::vector<Problem>& problems)
      : lookup_(lookup), problems_(problems) {}

  void problem(const Value& at, const std::string& path, const std::string& message) {
    problems_.push_back({at.origin(), path, message});
  }

  // One scalar of a numeric, boolean or string type (also used for list elements).
  void scalar(const Value& v, Type type, const KeySpec& spec, const std::string& path) {
    switch (type) {
      case Type::Bool:
        if (!parse_bool(v)) problem(v, path, "expected a boolean (true or false), got " + got(v));
        return;
      case Type::Int: {
        auto i = parse_int(v);
        if (!i) {
          bool overflow = v.is_scalar() && !v.quoted() && looks_like_decimal_integer(v.text());
          problem(v, path,
                  overflow ? v.text() + " does not fit in a 64-bit integer"
                           : "expected an integer, got " + got(v));
        } else if (!in_range(static_cast<double>(*i), spec)) {
          problem(v, path, v.text() + " is out of range, expected " + range_only(spec));
        }
        return;
      }
      case Type::Float: {
        auto f = parse_float(v);
        if (!f) {
          problem(v, path, "expected a number, got " + got(v));
        } else if (!in_range(*f, spec)) {
          problem(v, path, v.text() + " is out of range, expected " + range_only(spec));
        }
        return;
      }
      case Type::String:
        // Any scalar is a string (`version: 2` keeps the text "2").
        if (!v.is_scalar()) {
          problem(v, path, "expected a string, got " + got(v));
        } else if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(),
                                                      v.text()) == spec.choices.end()) {
          problem(v, path,
                  "'" + v.text() + "' is not one of: " + join(spec.choices) +
                      did_you_mean_suffix(v.text(), spec.choices));
        }
        return;
      default: throw std::logic_error("Checker::scalar called for a non-scalar type");
    }
  }

  void list_of(Value& v, Type element, const KeySpec& spec, const std::string& path) {
    if (!v.is_list()) {
      problem(v, path, std::string("expected a ") + type_name(spec.type) + ", got " + got(v));
      return;
    }
    for (size_t i = 0; i < v.items().size(); ++i)
      scalar(v.items()[i], element, spec, join_path(path, std::to_string(i)));
  }

  void value(Value& v, const KeySpec& spec, const std::string& path) {
    switch (spec.type) {
      case Type::Bool:
      case Type::Int:
      case Type::Float:
      case Type::String: scalar(v, spec.type, spec, path); return;
      case Type::IntList: list_of(v, Type::Int, spec, path); return;
      case Type::FloatList: list_of(v, Type::Float, spec, path); return;
      case Type::StringList: list_of(v, Type::String, spec, path); return;
      case Type::Map:
        if (!v.is_map()) problem(v, path, "expected a map, got " + got(v));
        return;
      case Type::Any: return;
      case Type::Component:
        // A block that sets some keys but names no component (`model.attention.heads=2` on a
        // recipe that keeps the default attention) takes the name of the schema's default.
        if (v.is_map() && !v.find("name") && spec.default_yaml) {
          const Value def = default_value(spec);
          if (def.is_map() && def.find("name")) v.set("name", *def.find("name"));
        }
        component(v, spec.component_kind, path);
        return;
      case Type::ComponentList:
        if (!v.is_list()) {
          problem(v, path, "expected a list of " + spec.component_kind + " blocks, got " + got(v));
          return;
        }
        for (size_t i = 0; i < v.items().size(); ++i)
          component(v.items()[i], spec.component_kind, join_path(path, std::to_string(i)));
        return;
    }
  }

  void section(Value& section, const Schema& schema, const std::string& path, bool is_component) {
    if (section.is_null()) section = Value::map(section.origin());
    if (!section.is_map()) {
      problem(section, path, "expected a map of keys, got " + got(section));
      return;
    }
    std::vector<std::string> valid;
    for (const KeySpec& spec : schema.keys()) valid.push_back(spec.name);
    if (is_component && !schema.find("name")) valid.push_back("name");
    std::sort(valid.begin(), valid.end());

    for (const auto& [key, v] : section.entries()) {
      if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
      std::string message = "unknown key" + did_you_mean_suffix(key, valid);
      message += valid.empty() ? "; this section takes no keys" : "; valid keys: " + join(valid);
      problems_.push_back({v.key_origin(), join_path(path, key), message});
    }

    for (const KeySpec& spec : schema.keys()) {
      const std::string key_path = join_path(path, spec.name);
      Value* v = section.find(spec.name);
      // Null (`key:` or `key: null`) means "not given": a later file or an override can reset a
      // key to its default this way.
      if (!v || v->is_null()) {
        if (spec.default_yaml) {
          Value filled = default_value(spec);
          v = v ? &(*v = std::move(filled)) : &section.set(spec.name, std::move(filled));
        } else {
          if (spec.required) {
            std::string doc = spec.doc.empty() ? "" : " (" + spec.doc + ")";
            problem(v ? *v : section, key_path, "missing required key" + doc);
          }
          continue;
        }
      }
      value(*v, spec, key_path);
    }
  }

  void component(Value& block, const std::string& kind, const std::string& path) {
    if (block.is_scalar()) {  // `attention: mha` is short for `attention: {name: mha}`
      Value expanded = Value::map(block.origin());
      expanded.set_key_origin(block.key_origin());
      expanded.set("name", block);
      block = std::move(expanded);
    }
    if (!block.is_map()) {
      problem(block, path,
              "expected a " + kind + " (a name, or a map with 'name: ...'), got " + got(block));
      return;
    }
    std::vector<std::string> known =
        lookup_.names ? lookup_.names(kind) : std::vector<std::string>{};
    std::string known_text =
        known.empty() ? "; no " + kind + " is registered" : "; known: " + join(known);
    const std::string name_path = join_path(path, "name");
    const Value* name = block.find("name");
    if (!name || name->is_null()) {
      problem(name ? *name : block, name_path,
              "missing required key: which " + kind + " to use" + known_text);
      return;
    }
    if (!name->is_scalar()) {
      problem(*name, name_path, "expected a " + kind + " name, got " + got(*name));
      return;
    }
    const Schema* schema = lookup_.find ? lookup_.find(kind, name->text()) : nullptr;
    if (!schema) {
      problem(*name, name_path,
              "unknown " + kind + " '" + name->text() + "'" +
                  did_you_mean_suffix(name->text(), known) + known_text);
      return;
    }
    section(block, *schema, path, true);
  }

 private:
  const SchemaLookup& lookup_;
  std::vector<Problem>& problems_;
};

}  // namespace

void validate(Value& section, const Schema& schema, const std::string& path,
              const SchemaLookup& lookup, std::vector<Problem>& problems, bool is_component) {
  Checker(lookup, problems).section(section, schema, path, is_component);
}

void validate_component(Value& block, const std::string& kind, const std::string& path,
                        const SchemaLookup& lookup, std::vector<Problem>& problems) {
  Checker(lookup, problems).component(block, kind, path);
}

}  // namespace attnlab::config
