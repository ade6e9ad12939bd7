// "Did you mean ...?" for unknown keys, component names, choices and overrides.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace attnlab::config {

// Optimal-string-alignment distance (Damerau-Levenshtein where a transposed pair counts as one
// edit and no substring is edited twice): "maen" -> "mean" is 1.
size_t edit_distance(const std::string& a, const std::string& b);

// The closest candidate by edit distance (Damerau-Levenshtein), if close enough to suggest:
// within max(1, len(word) / 3) edits, or a prefix/suffix of the word (or the word of it). Ties
// go to the alphabetically first candidate, so messages are deterministic.
std::optional<std::string> did_you_mean(const std::string& word,
                                        const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean_suffix(const std::string& word,
                                const std::vector<std::string>& candidates);

}  // namespace attnlab::config
