// The text-classification vocabulary; see vocabulary.h.
#include "datasets/vocabulary.h"

#include <algorithm>
#include <stdexcept>

namespace attnlab::datasets {

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& documents, const VocabularyOptions& o) {
  if (o.min_frequency < 1) throw std::invalid_argument("min_frequency must be at least 1, got " + std::to_string(o.min_frequency));
  if (o.max_vocab != 0 && o.max_vocab < 3) {
    throw std::invalid_argument("max_vocab must be 0 (no limit) or at least 3 (<pad>, <unk> and a word), got " +
                                std::to_string(o.max_vocab));
  }
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& doc : documents)
    for (const auto& w : doc) ++counts[w];
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocabulary v;
  v.words_ = {"<pad>", "<unk>"};
  for (const auto& [word, count] : ranked) {
    if (count < o.min_frequency) break;  // ranked by count: every later word is rarer
    if (o.max_vocab > 0 && v.size() >= o.max_vocab) break;
    // A text that literally holds "<pad>" or "<unk>" keeps the special meaning of neither.
    if (word == "<pad>" || word == "<unk>") continue;
    v.words_.push_back(word);
  }
  for (size_t i = 0; i < v.words_.size(); ++i) v.ids_.emplace(v.words_[i], static_cast<int64_t>(i));
  return v;
}

int64_t Vocabulary::find(const std::string& word) const {
  const auto it = ids_.find(word);
  return it == ids_.end() ? -1 : it->second;
}

}  // namespace attnlab::datasets
