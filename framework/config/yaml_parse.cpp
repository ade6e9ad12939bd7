// YAML text -> Value tree with origins (file, 1-based line and column of every node). yaml-cpp
// does the parsing; this file turns its nodes into Values, keeping what yaml-cpp knows and we
// need: whether a scalar was quoted (yaml-cpp 0.7 tags quoted scalars "!" and plain ones "?"),
// where each node starts, and duplicate keys (which yaml-cpp keeps silently).
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "framework/config/loader.h"
#include "framework/config/problems.h"
#include "framework/errors.h"

namespace attnlab::config {

namespace {

Origin origin_at(const std::string& name, const YAML::Mark& mark) {
  Origin o;
  o.file = name;
  // yaml-cpp marks are 0-based (and -1 when unknown).
  o.line = mark.line >= 0 ? mark.line + 1 : 0;
  o.column = mark.column >= 0 ? mark.column + 1 : 0;
  return o;
}

bool is_string_tag(const std::string& tag) { return tag == "!" || tag == "tag:yaml.org,2002:str"; }

// Plain scalars (and the core schema's own tags, which say what the text already says).
bool is_plain_tag(const std::string& tag) {
  return tag == "?" || tag.empty() || tag == "tag:yaml.org,2002:int" ||
         tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool" ||
         tag == "tag:yaml.org,2002:null" || tag == "tag:yaml.org,2002:map" ||
         tag == "tag:yaml.org,2002:seq";
}

class Converter {
 public:
  Converter(const std::string& name, std::vector<Problem>& problems)
      : name_(name), problems_(problems) {}

  // `fallback` is used where yaml-cpp's own mark is misleading: an empty value (`key:`) is
  // marked at the next token, and a block map or list at its first child, while the user
  // thinks of the value as being where its key is.
  Value convert(const YAML::Node& node, const Origin& fallback) {
    Origin here = origin_at(name_, node.Mark());
    // An alias inside its own anchor (`a: &x [*x]`) is an infinite tree to yaml-cpp.
    for (const YAML::Node& ancestor : ancestors_) {
      if (ancestor.is(node)) {
        problems_.push_back({here, "", "an alias refers to a value that contains it"});
        return Value::null(here);
      }
    }
    ancestors_.push_back(node);
    Value v = convert_node(node, here, fallback);
    ancestors_.pop_back();
    return v;
  }

 private:
  Value convert_node(const YAML::Node& node, const Origin& here, const Origin& fallback) {
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: return Value::null(fallback.file.empty() ? here : fallback);
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        if (!is_string_tag(tag) && !is_plain_tag(tag))
          problems_.push_back({here, "", "unsupported YAML tag '" + tag + "'"});
        return Value::scalar(node.Scalar(), here, is_string_tag(tag));
      }
      case YAML::NodeType::Sequence: {
        Value list = Value::list(fallback.file.empty() ? here : fallback);
        for (const YAML::Node& item : node) list.push_back(convert(item, Origin{}));
        return list;
      }
      case YAML::NodeType::Map: {
        Value map = Value::map(fallback.file.empty() ? here : fallback);
        std::map<std::string, int> first_line;
        for (auto it = node.begin(); it != node.end(); ++it) {
          const YAML::Node& key = it->first;
          Origin key_origin = origin_at(name_, key.Mark());
          if (!key.IsScalar()) {
            problems_.push_back({key_origin, "",
                                 std::string("map keys must be plain names, got ") +
                                     (key.IsNull() ? "null" : "a map or a list")});
            continue;
          }
          const std::string& k = key.Scalar();
          auto [seen, inserted] = first_line.emplace(k, key_origin.line);
          if (!inserted) {
            problems_.push_back({key_origin, "",
                                 "duplicate key '" + k + "' (first given on line " +
                                     std::to_string(seen->second) + ")"});
            continue;
          }
          const YAML::Node& v = it->second;
          bool block_or_empty = v.IsNull() || !v.IsDefined() ||
                                ((v.IsMap() || v.IsSequence()) && v.Mark().line != key.Mark().line);
          Value& value = map.set(k, convert(v, block_or_empty ? key_origin : Origin{}));
          value.set_key_origin(key_origin);
        }
        return map;
      }
    }
    return Value::null(here);
  }

  const std::string& name_;
  std::vector<Problem>& problems_;
  std::vector<YAML::Node> ancestors_;  // the nodes being converted, outermost first
};

}  // namespace

Value parse_yaml_text(const std::string& text, const std::string& name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw UserError(origin_at(name, e.mark).str() + ": YAML syntax error: " + e.msg);
  }
  if (documents.size() > 1) {
    throw UserError(origin_at(name, documents[1].Mark()).str() +
                    ": a recipe is one YAML document, found a second one ('---')");
  }
  if (documents.empty()) {
    Origin start;
    start.file = name;
    start.line = 1;
    start.column = 1;
    return Value::null(start);
  }
  std::vector<Problem> problems;
  Value root = Converter(name, problems).convert(documents[0], Origin{});
  throw_if_problems(problems);
  return root;
}

Value parse_yaml_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw UserError("recipe '" + path + "' not found");
  if (fs::is_directory(path, ec))
    throw UserError("recipe '" + path + "' is a directory, not a YAML file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("recipe '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml_text(text.str(), path);
}

}  // namespace attnlab::config
