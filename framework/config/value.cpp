// The recipe tree's data: origins (where a value came from) and the map/list/scalar node with its
// small map API. Printing lives in yaml_emit.cpp.
#include "framework/config/value.h"

#include <algorithm>

namespace attnlab::config {

namespace {
const char* const kCommandLineFile = "<command line>";
const char* const kDefaultFile = "<default>";
}  // namespace

std::string Origin::str() const {
  if (file == kCommandLineFile)
    return note.empty() ? "command line" : "command line '" + note + "'";
  if (file == kDefaultFile) return "default";
  if (file.empty()) return "";
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  return s;
}

Origin Origin::command_line(const std::string& override_text) {
  Origin o;
  o.file = kCommandLineFile;
  o.note = override_text;
  return o;
}

Origin Origin::defaulted() {
  Origin o;
  o.file = kDefaultFile;
  return o;
}

Value Value::null(Origin origin) {
  Value v;
  v.origin_ = std::move(origin);
  return v;
}

Value Value::scalar(std::string text, Origin origin, bool quoted) {
  Value v;
  v.kind_ = Kind::Scalar;
  v.text_ = std::move(text);
  v.quoted_ = quoted;
  v.origin_ = std::move(origin);
  return v;
}

Value Value::list(Origin origin) {
  Value v;
  v.kind_ = Kind::List;
  v.origin_ = std::move(origin);
  return v;
}

Value Value::map(Origin origin) {
  Value v;
  v.kind_ = Kind::Map;
  v.origin_ = std::move(origin);
  return v;
}

void Value::set_origin_deep(const Origin& o) {
  origin_ = o;
  key_origin_ = o;
  for (Value& item : items_) item.set_origin_deep(o);
  for (auto& entry : entries_) entry.second.set_origin_deep(o);
}

const Value* Value::find(const std::string& key) const {
  for (const auto& entry : entries_)
    if (entry.first == key) return &entry.second;
  return nullptr;
}

Value* Value::find(const std::string& key) {
  for (auto& entry : entries_)
    if (entry.first == key) return &entry.second;
  return nullptr;
}

Value& Value::set(const std::string& key, Value v) {
  // A null node receiving a key becomes a map (an empty recipe, `model:` with nothing under it).
  if (kind_ == Kind::Null) kind_ = Kind::Map;
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  entries_.emplace_back(key, std::move(v));
  return entries_.back().second;
}

bool Value::erase(const std::string& key) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const auto& entry) { return entry.first == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::vector<std::string> Value::keys() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& entry : entries_) out.push_back(entry.first);
  return out;
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Scalar: return "scalar";
    case Value::Kind::List: return "list";
    case Value::Kind::Map: return "map";
  }
  return "unknown";
}

}  // namespace attnlab::config
