// Suggestions for near misses: optimal-string-alignment edit distance plus prefix/suffix matches.
#include "framework/config/did_you_mean.h"

#include <algorithm>
#include <vector>

namespace attnlab::config {

size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  // d[i][j]: distance between a[0, i) and b[0, j).
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "lr" for "lr_min", "layers" for "num_layers"; a single shared letter is not a hint.
bool affix_match(const std::string& word, const std::string& candidate) {
  const std::string& shorter = word.size() <= candidate.size() ? word : candidate;
  const std::string& longer = word.size() <= candidate.size() ? candidate : word;
  return shorter.size() >= 2 && (starts_with(longer, shorter) || ends_with(longer, shorter));
}

}  // namespace

std::optional<std::string> did_you_mean(const std::string& word,
                                        const std::vector<std::string>& candidates) {
  if (word.empty()) return std::nullopt;
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    size_t distance = edit_distance(word, candidate);
    if (distance > limit && !affix_match(word, candidate)) continue;
    if (!best || distance < best_distance || (distance == best_distance && candidate < *best)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string did_you_mean_suffix(const std::string& word,
                                const std::vector<std::string>& candidates) {
  auto suggestion = did_you_mean(word, candidates);
  return suggestion ? " (did you mean '" + *suggestion + "'?)" : "";
}

}  // namespace attnlab::config
