// `${...}` inside recipe scalars, resolved after includes and overrides so that references see
// the final recipe:
//   ${env:VAR}          the environment variable (an error if unset)
//   ${env:VAR,default}  ... or `default` (itself interpolated) when VAR is unset
//   ${a.b.0.c}          the value at that key path of the recipe
// A scalar that is exactly one ${...} takes the replacement as its own value (still unquoted, so
// `steps: ${env:STEPS}` can be an integer; a reference to a map copies the map). Text around the
// ${...} makes a string. References resolve their target first and detect loops with the stack
// of keys being resolved; a failure is reported once, where it happens, not again by every
// scalar that refers to it.
#include <cstdlib>
#include <map>

#include "framework/config/did_you_mean.h"
#include "framework/config/key_path.h"
#include "framework/config/loader.h"
#include "framework/config/problems.h"

namespace attnlab::config {

namespace {

struct Failure {
  std::string message;
  bool already_reported = false;  // a target that failed on its own
};

struct Piece {
  bool is_expression = false;
  std::string text;  // literal text, or the expression between "${" and "}"
};

std::vector<Piece> split_pieces(const std::string& text) {
  std::vector<Piece> pieces;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "\\${") == 0) {  // escaped: a literal "${"
      literal += "${";
      i += 3;
    } else if (text.compare(i, 2, "${") == 0) {
      // Braces nest so that a default can hold another ${...}.
      size_t j = i + 2;
      int depth = 1;
      for (; j < text.size() && depth > 0; ++j) {
        if (text[j] == '{') ++depth;
        if (text[j] == '}') --depth;
      }
      if (depth > 0) throw Failure{"unterminated '${' in '" + text + "'"};
      if (!literal.empty()) pieces.push_back({false, literal});
      literal.clear();
      pieces.push_back({true, text.substr(i + 2, j - 1 - (i + 2))});
      i = j;
    } else {
      literal += text[i++];
    }
  }
  if (!literal.empty() || pieces.empty()) pieces.push_back({false, literal});
  return pieces;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool is_env_name(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

bool is_key_path(const std::string& s) {
  if (s.empty() || s.find_first_of(" \t{}:,$\\'\"") != std::string::npos) return false;
  for (const std::string& seg : split_path(s))
    if (seg.empty()) return false;
  return true;
}

class Interpolator {
 public:
  Interpolator(Value& root, std::vector<Problem>& problems) : root_(root), problems_(problems) {}

  // Resolves every scalar under `v`; false if any of them failed.
  bool visit(Value& v, const std::string& path) {
    bool ok = true;
    if (v.is_scalar()) return resolve(v, path);
    if (v.is_map()) {
      for (auto& [key, child] : v.entries()) ok = visit(child, join_path(path, key)) && ok;
    } else if (v.is_list()) {
      for (size_t i = 0; i < v.items().size(); ++i)
        ok = visit(v.items()[i], join_path(path, std::to_string(i))) && ok;
    }
    return ok;
  }

 private:
  enum class State { Done, Failed };

  bool resolve(Value& v, const std::string& path) {
    auto known = state_.find(&v);
    if (known != state_.end()) return known->second == State::Done;
    if (v.text().find("${") == std::string::npos) {
      state_[&v] = State::Done;
      return true;
    }
    stack_.push_back(path);
    bool ok = true;
    try {
      substitute(v);
    } catch (const Failure& f) {
      if (!f.already_reported) problems_.push_back({v.origin(), path, f.message});
      ok = false;
    }
    stack_.pop_back();
    mark(v, ok ? State::Done : State::Failed);
    return ok;
  }

  void substitute(Value& v) {
    const Origin key_origin = v.key_origin();
    replace(v);
    v.set_key_origin(key_origin);
  }

  void replace(Value& v) {
    std::vector<Piece> pieces = split_pieces(v.text());
    if (pieces.size() == 1 && pieces[0].is_expression) {
      Value result = evaluate(pieces[0].text);
      if (result.is_scalar()) {
        // Keeps the scalar's own origin: the replacement happened where ${...} was written.
        v = Value::scalar(result.text(), v.origin(), v.quoted() || result.quoted());
      } else if (v.quoted()) {
        throw Failure{"'${" + pieces[0].text + "}' is a " + kind_name(result.kind()) +
                      ", which cannot go inside a quoted string"};
      } else {
        result.set_origin(v.origin());
        v = std::move(result);
      }
      return;
    }
    // Text around an expression: the result is a string, whatever the pieces looked like.
    bool has_expression = false;
    std::string text = concatenate(pieces, has_expression);
    v = Value::scalar(text, v.origin(), v.quoted() || has_expression);
  }

  std::string concatenate(const std::vector<Piece>& pieces, bool& has_expression) {
    std::string text;
    for (const Piece& piece : pieces) {
      if (!piece.is_expression) {
        text += piece.text;
        continue;
      }
      has_expression = true;
      Value part = evaluate(piece.text);
      if (!part.is_scalar()) {
        throw Failure{"'${" + piece.text + "}' is a " + kind_name(part.kind()) +
                      " and cannot be part of a string"};
      }
      text += part.text();
    }
    return text;
  }

  Value evaluate(const std::string& expression) {
    if (expression.rfind("env:", 0) == 0) return environment(expression);
    if (is_key_path(expression)) return reference(expression);
    size_t colon = expression.find(':');
    if (colon != std::string::npos && is_env_name(expression.substr(0, colon))) {
      throw Failure{"unknown resolver '" + expression.substr(0, colon) + "' in '${" + expression +
                    "}'; supported: ${env:VAR}, ${env:VAR,default}, ${key.path}"};
    }
    throw Failure{
        "'${" + expression +
        "}' is not an interpolation; supported: ${env:VAR}, ${env:VAR,default}, ${key.path}"};
  }

  Value environment(const std::string& expression) {
    std::string body = expression.substr(4);
    // The first comma outside nested braces ends the name.
    size_t comma = std::string::npos;
    int depth = 0;
    for (size_t i = 0; i < body.size() && comma == std::string::npos; ++i) {
      if (body[i] == '{') ++depth;
      if (body[i] == '}') --depth;
      if (body[i] == ',' && depth == 0) comma = i;
    }
    std::string name = trim(body.substr(0, comma));
    if (!is_env_name(name))
      throw Failure{"'" + name + "' is not an environment variable name (in '${" + expression +
                    "}')"};
    // Set-but-empty counts as set, as in the shell's ${VAR-default}.
    if (const char* value = std::getenv(name.c_str())) return Value::scalar(value);
    if (comma == std::string::npos) {
      throw Failure{"environment variable '" + name +
                    "' is not set (give a default with ${env:" + name + ",default})"};
    }
    bool unused = false;
    return Value::scalar(concatenate(split_pieces(trim(body.substr(comma + 1))), unused));
  }

  Value reference(const std::string& key_path) {
    Value* target = &root_;
    std::string walked;
    for (const std::string& seg : split_path(key_path)) {
      std::string next = join_path(walked, seg);
      if (target->is_map()) {
        target = target->find(seg);
        if (!target) {
          throw Failure{"'${" + key_path + "}' refers to '" + next + "', which does not exist" +
                        did_you_mean_suffix(seg, find_keys(walked))};
        }
      } else if (target->is_list() && parse_index(seg) &&
                 *parse_index(seg) < target->items().size()) {
        target = &target->items()[*parse_index(seg)];
      } else {
        throw Failure{"'${" + key_path + "}' refers to '" + next + "', which does not exist"};
      }
      walked = next;
    }
    for (size_t i = 0; i < stack_.size(); ++i) {
      const std::string& s = stack_[i];
      if (s == key_path || s.rfind(key_path + ".", 0) == 0) {
        std::string chain;
        for (size_t j = i; j < stack_.size(); ++j) chain += stack_[j] + " -> ";
        throw Failure{"interpolation cycle: " + chain + key_path};
      }
    }
    if (!visit(*target, key_path)) throw Failure{"", true};
    return *target;
  }

  std::vector<std::string> find_keys(const std::string& map_path) {
    const Value* node = &root_;
    if (!map_path.empty()) {
      for (const std::string& seg : split_path(map_path)) {
        // `map_path` was walked successfully by reference(): every step exists.
        node = node->is_map() ? node->find(seg) : &node->items()[*parse_index(seg)];
        if (!node) return {};
      }
    }
    return node->is_map() ? node->keys() : std::vector<std::string>{};
  }

  // A replacement subtree is already resolved; its text must not be read as ${...} again.
  void mark(const Value& v, State s) {
    state_[&v] = s;
    for (const Value& item : v.items()) mark(item, s);
    for (const auto& entry : v.entries()) mark(entry.second, s);
  }

  Value& root_;
  std::vector<Problem>& problems_;
  std::map<const Value*, State> state_;
  std::vector<std::string> stack_;  // key paths being resolved, outermost first
};

}  // namespace

void interpolate(Value& root) {
  std::vector<Problem> problems;
  Interpolator(root, problems).visit(root, "");
  throw_if_problems(problems);
}

}  // namespace attnlab::config
