// Dotted key path helpers shared by overrides, interpolation, validation and Section.
#include "framework/config/key_path.h"

namespace attnlab::config {

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    segments.push_back(
        dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return segments;
}

std::optional<size_t> parse_index(const std::string& segment) {
  if (segment.empty() || segment.size() > 18) return std::nullopt;
  size_t value = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

}  // namespace attnlab::config
