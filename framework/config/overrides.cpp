// Command-line overrides, Hydra-style: `a.b=v` sets an existing key, `+a.b=v` adds a new one,
// `++a.b=v` does either, `~a.b` deletes. The split between set and add is what catches typos:
// `model.layrs=3` is an error with a suggestion instead of a key nobody reads. Values are YAML
// flow text, so `x=[1,2]`, `x={a: 1}` and `x='a string'` work. Every override is tried (in order)
// and every failure reported together.
#include <algorithm>
#include <cstddef>

#include <yaml-cpp/yaml.h>

#include "framework/config/did_you_mean.h"
#include "framework/config/key_path.h"
#include "framework/config/loader.h"
#include "framework/config/problems.h"
#include "framework/errors.h"

namespace attnlab::config {

namespace {

enum class Op { Set, Add, Upsert, Delete };

struct Override {
  std::string text;  // as typed, for messages and the origin
  Op op = Op::Set;
  std::string path;  // "a.b.2"
  std::vector<std::string> segments;
  std::string value_text;  // YAML flow text after '=' (Set/Add/Upsert)
};

// A failed override; caught per override so the others are still tried.
struct Failure {
  std::string path;
  std::string message;
};

Override parse_override(const std::string& text) {
  Override o;
  o.text = text;
  std::string rest = text;
  if (rest.rfind("~", 0) == 0) {
    o.op = Op::Delete;
    rest = rest.substr(1);
  } else if (rest.rfind("++", 0) == 0) {
    o.op = Op::Upsert;
    rest = rest.substr(2);
  } else if (rest.rfind("+", 0) == 0) {
    o.op = Op::Add;
    rest = rest.substr(1);
  }
  size_t eq = rest.find('=');
  if (o.op == Op::Delete) {
    if (eq != std::string::npos)
      throw Failure{"",
                    "'~' deletes a key and takes no value; write '~" + rest.substr(0, eq) + "'"};
    o.path = rest;
  } else {
    if (eq == std::string::npos)
      throw Failure{"", "expected KEY=VALUE (or +KEY=VALUE to add, ~KEY to delete)"};
    o.path = rest.substr(0, eq);
    o.value_text = rest.substr(eq + 1);
  }
  if (o.path.empty()) throw Failure{"", "empty key path"};
  o.segments = split_path(o.path);
  for (const std::string& s : o.segments)
    if (s.empty()) throw Failure{"", "empty key in path '" + o.path + "'"};
  return o;
}

Value parse_value(const Override& o) {
  // Checked here first so a bad value is reported as part of the override, not as a file.
  try {
    YAML::Load(o.value_text);
  } catch (const YAML::Exception& e) {
    throw Failure{o.path, "value '" + o.value_text + "' is not valid YAML: " + e.msg};
  }
  Value v;
  try {
    // Named by its own text so a problem inside it (a duplicate key) reads "'{a: 1, a: 2}':1:9".
    v = parse_yaml_text(o.value_text, "'" + o.value_text + "'");
  } catch (const UserError& e) {
    throw Failure{o.path, e.what()};
  }
  v.set_origin_deep(Origin::command_line(o.text));
  return v;
}

std::string hint_set_instead(const Override& o) {
  return "use '" + o.path + "=" + o.value_text + "' to change it (or '++" + o.path + "=" +
         o.value_text + "')";
}

std::string hint_add_instead(const Override& o) {
  return "use '+" + o.path + "=" + o.value_text + "' to add it";
}

Failure missing_key(const Override& o, const Value& map, const std::string& where,
                    const std::string& key, const std::vector<std::string>& declared) {
  std::vector<std::string> candidates = map.keys();
  candidates.insert(candidates.end(), declared.begin(), declared.end());
  std::string message = "no such key" + did_you_mean_suffix(key, candidates);
  if (o.op == Op::Set) message += "; " + hint_add_instead(o);
  return Failure{where, message};
}

// The index into `list` named by `segment` (a decimal index that must exist).
size_t list_index(const Value& list, const std::string& segment, const std::string& where) {
  auto index = parse_index(segment);
  size_t size = list.items().size();
  if (!index) {
    throw Failure{where, "'" + segment + "' is not a list index (the list has " +
                             std::to_string(size) + " items, numbered from 0)"};
  }
  if (*index >= size) {
    throw Failure{where, "index " + segment + " is out of range: the list has " +
                             std::to_string(size) + " items"};
  }
  return *index;
}

Failure not_a_container(const Value& node, const std::string& node_path, const std::string& where) {
  std::string what = node_path.empty() ? "the recipe" : "'" + node_path + "'";
  return Failure{where, "cannot go into " + what + ": it is a " + kind_name(node.kind()) +
                            ", not a map or a list"};
}

void apply_one(Value& root, const Override& o, const DeclaredKeys& declared_keys) {
  const Origin origin = Origin::command_line(o.text);
  const bool creates = o.op == Op::Add || o.op == Op::Upsert;
  // The keys a schema declares under segment i's parent (empty when none is known).
  const auto declared_at = [&](size_t i) {
    if (!declared_keys) return std::vector<std::string>();
    auto keys = declared_keys(root, std::vector<std::string>(o.segments.begin(), o.segments.begin() + i));
    return keys ? *keys : std::vector<std::string>();
  };
  // `a.b=v` may also set a key the recipe leaves at its schema default.
  const auto declared = [&](size_t i) {
    const auto keys = declared_at(i);
    return std::find(keys.begin(), keys.end(), o.segments[i]) != keys.end();
  };
  Value* node = &root;
  std::string node_path;
  // Walk to the parent of the last segment; `+` and `++` create missing maps on the way.
  for (size_t i = 0; i + 1 < o.segments.size(); ++i) {
    const std::string& seg = o.segments[i];
    std::string where = join_path(node_path, seg);
    if (node->is_null() && creates) *node = Value::map(origin);
    if (node->is_map()) {
      Value* child = node->find(seg);
      if (!child) {
        if (!creates && !(o.op == Op::Set && declared(i)))
          throw missing_key(o, *node, where, seg, declared_at(i));
        child = &node->set(seg, Value::map(origin));
      }
      node = child;
    } else if (node->is_list()) {
      node = &node->items()[list_index(*node, seg, where)];
    } else {
      throw not_a_container(*node, node_path, where);
    }
    node_path = where;
  }

  const std::string& last = o.segments.back();
  const std::string where = join_path(node_path, last);
  if (node->is_null() && creates) *node = Value::map(origin);
  if (node->is_list()) {
    if (o.op == Op::Add) {
      throw Failure{where, "'+' adds map keys; a list element is changed with '" + o.path + "=" +
                               o.value_text + "'"};
    }
    size_t index = list_index(*node, last, where);
    if (o.op == Op::Delete) {
      node->items().erase(node->items().begin() + static_cast<std::ptrdiff_t>(index));
    } else {
      node->items()[index] = parse_value(o);
    }
    return;
  }
  if (!node->is_map()) throw not_a_container(*node, node_path, where);
  Value* existing = node->find(last);
  switch (o.op) {
    case Op::Set:
      if (!existing) {
        if (!declared(o.segments.size() - 1))
          throw missing_key(o, *node, where, last, declared_at(o.segments.size() - 1));
        node->set(last, parse_value(o));
        return;
      }
      *existing = parse_value(o);
      return;
    case Op::Add:
      if (existing) throw Failure{where, "already exists; " + hint_set_instead(o)};
      node->set(last, parse_value(o));
      return;
    case Op::Upsert: node->set(last, parse_value(o)); return;
    case Op::Delete:
      if (!existing) throw missing_key(o, *node, where, last, {});
      node->erase(last);
      return;
  }
}

}  // namespace

void apply_overrides(Value& root, const std::vector<std::string>& overrides,
                     const DeclaredKeys& declared) {
  std::vector<Problem> problems;
  for (const std::string& text : overrides) {
    try {
      apply_one(root, parse_override(text), declared);
    } catch (const Failure& f) {
      problems.push_back({Origin::command_line(text), f.path, f.message});
    }
  }
  throw_if_problems(problems);
}

}  // namespace attnlab::config
