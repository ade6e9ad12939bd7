// Reading scalars as typed values by the YAML 1.2 core schema, shared by validation (is this a
// valid integer?) and Section (give me the integer). Quoted scalars are strings, never numbers.
#include <charconv>
#include <cmath>
#include <limits>

#include "framework/config/section.h"

namespace attnlab::config {

namespace {

bool all_of(const std::string& s, size_t from, bool (*pred)(char)) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i)
    if (!pred(s[i])) return false;
  return true;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_core_float(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

// The whole of s[from, end) must convert; from_chars is locale-independent, unlike strtod.
std::optional<int64_t> int_exact(const std::string& s, size_t from, int base) {
  int64_t value = 0;
  const char* last = s.data() + s.size();
  auto [end, ec] = std::from_chars(s.data() + from, last, value, base);
  if (ec != std::errc() || end != last) return std::nullopt;
  return value;
}

std::optional<double> double_exact(const std::string& s, size_t from) {
  double value = 0;
  const char* last = s.data() + s.size();
  auto [end, ec] = std::from_chars(s.data() + from, last, value);
  if (ec != std::errc() || end != last) return std::nullopt;
  return value;
}

}  // namespace

std::optional<bool> parse_bool(const Value& v) {
  if (!v.is_scalar() || v.quoted()) return std::nullopt;
  const std::string& t = v.text();
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(const Value& v) {
  if (!v.is_scalar() || v.quoted()) return std::nullopt;
  const std::string& t = v.text();
  if (t.size() > 2 && t[0] == '0' && t[1] == 'x')
    return all_of(t, 2, is_hex) ? int_exact(t, 2, 16) : std::nullopt;
  if (t.size() > 2 && t[0] == '0' && t[1] == 'o')
    return all_of(t, 2, is_octal) ? int_exact(t, 2, 8) : std::nullopt;
  size_t start = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (!all_of(t, start, is_digit)) return std::nullopt;
  // from_chars takes a '-' but not a '+'.
  return int_exact(t, t[0] == '+' ? 1 : 0, 10);
}

std::optional<double> parse_float(const Value& v) {
  if (!v.is_scalar() || v.quoted()) return std::nullopt;
  if (auto i = parse_int(v)) return static_cast<double>(*i);
  const std::string& t = v.text();
  const double inf = std::numeric_limits<double>::infinity();
  if (t == ".inf" || t == ".Inf" || t == ".INF" || t == "+.inf" || t == "+.Inf" || t == "+.INF")
    return inf;
  if (t == "-.inf" || t == "-.Inf" || t == "-.INF") return -inf;
  if (t == ".nan" || t == ".NaN" || t == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  if (!is_core_float(t)) return std::nullopt;
  // Overflow ("1e999") is reported as not a number rather than silently becoming infinity.
  return double_exact(t, t[0] == '+' ? 1 : 0);
}

}  // namespace attnlab::config
