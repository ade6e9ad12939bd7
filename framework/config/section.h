// Typed, read-only access to a validated recipe section. Factories read their keys through it;
// since validation filled defaults and checked types, a failed read is an internal error
// (a key the schema does not declare), except where noted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/value.h"

namespace attnlab::config {

class Section {
 public:
  Section(const Value* node, std::string path);

  const std::string& path() const { return path_; }   // dotted path, "" for the root
  const Value& node() const { return *node_; }
  bool has(const std::string& key) const;              // present and not null

  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;
  std::vector<double> get_float_list(const std::string& key) const;
  std::vector<std::string> get_string_list(const std::string& key) const;

  Section sub(const std::string& key) const;            // a nested map
  std::vector<Section> sub_list(const std::string& key) const;  // a list of maps
  const Origin& origin(const std::string& key) const;   // where the value came from
  // "recipes/q.yaml:12:5: model.heads" — for error messages that name a key.
  std::string where(const std::string& key) const;

 private:
  const Value& at(const std::string& key) const;
  const Value* node_;
  std::string path_;
};

// Scalar conversions shared by validation and Section (nullopt if the text is not of that type).
// YAML 1.2 core schema: true/false (also True/TRUE), integers (decimal, 0x, 0o), floats
// (1.5, 1e-3, .inf, -.inf, .nan). Quoted scalars are never numbers or bools.
std::optional<bool> parse_bool(const Value& v);
std::optional<int64_t> parse_int(const Value& v);
std::optional<double> parse_float(const Value& v);

}  // namespace attnlab::config
