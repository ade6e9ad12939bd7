// The recipe tree: YAML parsed into maps, lists and scalars, each node remembering where it came
// from (file, line, column, or the command-line override that set it). Merges, overrides and
// interpolation keep those origins so errors and `attnlab config` can name them.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace attnlab::config {

struct Origin {
  std::string file;  // recipe path as given/resolved; "<command line>" for overrides; "<default>"
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string note;  // e.g. the override text "train.steps=5"

  // "recipes/a.yaml:12:5", "command line 'train.steps=5'", "default".
  std::string str() const;
  static Origin command_line(const std::string& override_text);
  static Origin defaulted();
};

class Value {
 public:
  enum class Kind { Null, Scalar, List, Map };

  Value() = default;
  static Value null(Origin origin = {});
  static Value scalar(std::string text, Origin origin = {}, bool quoted = false);
  static Value list(Origin origin = {});
  static Value map(Origin origin = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_scalar() const { return kind_ == Kind::Scalar; }
  bool is_list() const { return kind_ == Kind::List; }
  bool is_map() const { return kind_ == Kind::Map; }

  // Scalars keep their YAML text; `quoted` scalars are always strings (never numbers/bools).
  const std::string& text() const { return text_; }
  bool quoted() const { return quoted_; }

  const Origin& origin() const { return origin_; }
  void set_origin(Origin o) { origin_ = std::move(o); }
  // Gives this node and everything under it origin `o` (a value set by an override or a default);
  // key origins too.
  void set_origin_deep(const Origin& o);
  // Where the key holding this value in its map was written ("layrs:" for an unknown-key
  // message); the value's own origin when the key's was not recorded.
  const Origin& key_origin() const { return key_origin_.file.empty() ? origin_ : key_origin_; }
  void set_key_origin(Origin o) { key_origin_ = std::move(o); }

  // Lists.
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  void push_back(Value v) { items_.push_back(std::move(v)); }

  // Maps keep insertion order (so printing follows the recipe).
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  std::vector<std::pair<std::string, Value>>& entries() { return entries_; }
  const Value* find(const std::string& key) const;
  Value* find(const std::string& key);
  Value& set(const std::string& key, Value v);  // replaces or appends
  bool erase(const std::string& key);
  std::vector<std::string> keys() const;

  // YAML text of this subtree (block style; flow style for lists of scalars), for printing and
  // saving. With `with_origins`, each scalar line ends with "  # <origin>" (provenance).
  std::string to_yaml(bool with_origins = false) const;

 private:
  Kind kind_ = Kind::Null;
  std::string text_;
  bool quoted_ = false;
  Origin origin_;
  Origin key_origin_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> entries_;
};

// Human name of a kind for messages: "null", "scalar", "list", "map".
const char* kind_name(Value::Kind kind);

// `text` as a YAML scalar that reads back as the same value: plain where that is unambiguous,
// otherwise double-quoted with escapes. `quoted` forces quotes (a scalar that was quoted stays a
// string). Used by to_yaml and for schema defaults.
std::string yaml_scalar(const std::string& text, bool quoted);

}  // namespace attnlab::config
