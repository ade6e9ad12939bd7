// Loading a recipe: YAML files with `include:` (a path or list of paths relative to the including
// file; included files are merged first, in order, then the including file on top: deep merge of
// maps, later wins, lists replaced whole), then command-line overrides, then `${env:VAR}`
// interpolation. Errors are collected and thrown together as one UserError whose message has one
// line per problem, each naming file:line:column.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/value.h"

namespace attnlab::config {

// Parses one YAML file into a Value tree with origins (no includes resolved). An empty file is
// a null Value. Throws UserError: "recipe 'FILE' not found", "FILE:LINE:COL: YAML syntax error:
// ...", "FILE:LINE:COL: duplicate key 'k' (first given on line N)".
Value parse_yaml_file(const std::string& path);
// Parses YAML text (for tests and `attnlab config -`); `name` is used as the origin's file.
Value parse_yaml_text(const std::string& text, const std::string& name);

// Loads `path` with its includes resolved (cycles reported with the chain a.yaml -> b.yaml -> a.yaml).
// The result is always a map (an empty recipe is an empty map) without the `include` key.
Value load_recipe_file(const std::string& path);

// Deep-merges `top` onto `base`: maps merge key by key (recursively), anything else in `top`
// (scalar, list, null, or a map over a non-map) replaces what `base` had, origin included.
void deep_merge(Value& base, Value top);

// Applies command-line overrides in order:
//   a.b=v     set an existing key (error with did-you-mean if the parent exists but the key not)
//   +a.b=v    add a key that does not exist yet (error if it exists)
//   ++a.b=v   set or add
//   ~a.b      delete (error if absent)
//   a.list.2=v  list elements by index (negative not allowed; index must exist)
// Values are parsed as YAML flow (so `x=[1,2]` and `x={a: 1}` work). Origin: command line.
//
// `declared(root, parent)` lists the keys a schema declares under the map at `parent` (nullopt
// when no schema is known there). `a.b=v` may then set a declared key the tree does not have yet
// (it has a default), and a typo is matched against the declared keys too.
using DeclaredKeys = std::function<std::optional<std::vector<std::string>>(
    const Value& root, const std::vector<std::string>& parent)>;
void apply_overrides(Value& root, const std::vector<std::string>& overrides,
                     const DeclaredKeys& declared = {});

// Replaces ${env:VAR} (and ${env:VAR,default}) inside scalars. An unset variable without a
// default is an error naming the scalar's origin. Also ${a.b.0.c}: the value at that key path of
// the (overridden) recipe; references may chain but not loop. A scalar that is exactly one
// ${...} takes the replacement's type (`steps: ${env:STEPS}` can be an integer); text around it
// makes a string. `\${` is a literal "${".
void interpolate(Value& root);

// Everything above: load, override, interpolate. The schema is applied separately (schema.h).
Value resolve_recipe(const std::string& path, const std::vector<std::string>& overrides,
                     const DeclaredKeys& declared = {});

}  // namespace attnlab::config
