// Prints a Value tree as YAML: block style for maps and for lists holding maps or lists, flow
// style (`[1, 2]`) for lists of scalars. With origins, every line that carries a value ends with
// "  # <origin>", which is how `attnlab config` shows where each value of a resolved recipe came
// from. The output reads back (parse_yaml_text) into the same tree, origins aside.
#include <cctype>
#include <sstream>
#include <string>

#include "framework/config/value.h"

namespace attnlab::config {

namespace {

bool is_null_word(const std::string& s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Conservative: anything YAML might read differently as a plain scalar (in block or flow
// context) gets quoted. Over-quoting a string is harmless; under-quoting changes the recipe.
bool plain_is_safe(const std::string& s) {
  if (s.empty() || is_null_word(s)) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  const std::string indicators = "-?:,[]{}#&*!|>'\"%@`";
  if (indicators.find(s.front()) != std::string::npos) {
    // Negative numbers and -.inf stay plain; "- x", "---" and "-x" as a first char are risky.
    bool negative_number = s.front() == '-' && s.size() > 1 &&
                           (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
    if (!negative_number) return false;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}') return false;
  }
  return true;
}

std::string double_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          const char* hex = "0123456789ABCDEF";
          out += "\\x";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        } else {
          out += c;
        }
      }
    }
  }
  return out + "\"";
}

std::string key_text(const std::string& key) { return yaml_scalar(key, false); }

bool is_flow_list(const Value& v) {
  if (!v.is_list()) return false;
  for (const Value& item : v.items())
    if (!item.is_scalar() && !item.is_null()) return false;
  return true;
}

// Values printed on the same line as their key or dash.
bool is_inline(const Value& v) {
  return v.is_scalar() || v.is_null() || is_flow_list(v) || (v.is_map() && v.entries().empty());
}

std::string inline_text(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Scalar: return yaml_scalar(v.text(), v.quoted());
    case Value::Kind::Map: return "{}";
    case Value::Kind::List: {
      std::string s = "[";
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) s += ", ";
        s += inline_text(v.items()[i]);
      }
      return s + "]";
    }
  }
  return "";
}

class Emitter {
 public:
  explicit Emitter(bool with_origins) : with_origins_(with_origins) {}

  std::string run(const Value& root) {
    if (is_inline(root)) {
      inline_line(root);
    } else if (root.is_map()) {
      map(root, 0, false);
    } else {
      list(root, 0);
    }
    return out_.str();
  }

 private:
  void inline_line(const Value& v) {
    out_ << inline_text(v);
    if (with_origins_) {
      std::string where = v.origin().str();
      if (!where.empty()) out_ << "  # " << where;
    }
    out_ << "\n";
  }

  // `first_on_dash_line`: the first entry continues a "- " already written by the list.
  void map(const Value& m, int indent, bool first_on_dash_line) {
    bool first = true;
    for (const auto& [key, value] : m.entries()) {
      if (!(first && first_on_dash_line)) out_ << std::string(indent, ' ');
      first = false;
      out_ << key_text(key) << ":";
      after_key_or_dash(value, indent);
    }
  }

  // A map inside a list item starts on the dash line ("- name: x") with the rest aligned under
  // its first key.
  void list(const Value& l, int indent) {
    for (const Value& item : l.items()) {
      out_ << std::string(indent, ' ') << "-";
      if (item.is_map() && !is_inline(item)) {
        out_ << " ";
        map(item, indent + 2, true);
      } else {
        after_key_or_dash(item, indent);
      }
    }
  }

  // Children of a key (or dash) at `indent` go at indent + 2.
  void after_key_or_dash(const Value& v, int indent) {
    if (is_inline(v)) {
      out_ << " ";
      inline_line(v);
    } else if (v.is_map()) {
      out_ << "\n";
      map(v, indent + 2, false);
    } else {
      out_ << "\n";
      list(v, indent + 2);
    }
  }

  bool with_origins_;
  std::ostringstream out_;
};

}  // namespace

std::string yaml_scalar(const std::string& text, bool quoted) {
  if (!quoted && plain_is_safe(text)) return text;
  return double_quoted(text);
}

std::string Value::to_yaml(bool with_origins) const { return Emitter(with_origins).run(*this); }

}  // namespace attnlab::config
