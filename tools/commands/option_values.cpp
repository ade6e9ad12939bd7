// Command-line option values.
#include "tools/commands/option_values.h"

#include <cmath>
#include <exception>
#include <sstream>

#include "framework/errors.h"

namespace attnlab::tools {

int64_t parse_int_option(const std::string& option, const std::string& text, std::optional<int64_t> lowest) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || (lowest && v < *lowest)) {
    throw UserError(option + ": expected an integer" + (lowest ? " >= " + std::to_string(*lowest) : std::string()) +
                    ", got '" + text + "'");
  }
  return v;
}

double parse_positive_option(const std::string& option, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(v > 0) || !std::isfinite(v)) {
    throw UserError(option + ": expected a positive number, got '" + text + "'");
  }
  return v;
}

std::vector<std::string> parse_list_option(const std::string& option, const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  if (out.empty()) throw UserError(option + ": expected a comma-separated list, got '" + text + "'");
  return out;
}

}  // namespace attnlab::tools
