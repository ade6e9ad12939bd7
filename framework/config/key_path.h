// Dotted key paths ("model.attention.heads", "objective.regularizers.0.weight") as used by
// overrides, `${a.b}` references and messages. List elements are addressed by decimal index.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace attnlab::config {

// "a" + "b" -> "a.b"; "" + "b" -> "b" (the root has the empty path).
std::string join_path(const std::string& parent, const std::string& key);
// Splits on '.'; empty segments are kept so callers can reject "a..b".
std::vector<std::string> split_path(const std::string& dotted);
// A list index: decimal digits only (no sign), so "-1" and "+1" are not indices.
std::optional<size_t> parse_index(const std::string& segment);

}  // namespace attnlab::config
