// A word vocabulary for text classification, built from the training split only (val and test
// words the training split lacks are out of vocabulary, as they would be for a deployed model).
//
// Ids: 0 = <pad>, 1 = <unk>, then the words seen at least `min_frequency` times, by count
// (descending), ties by the word (bytewise ascending): the same data gives the same ids on every
// machine. `max_vocab` (0: no limit) caps the size *including* <pad> and <unk>, like the `text`
// dataset's max_vocab.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnlab::datasets {

struct VocabularyOptions {
  int64_t min_frequency = 1;
  int64_t max_vocab = 0;
};

class Vocabulary {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnk = 1;

  // From the tokenised training documents. Throws std::invalid_argument for min_frequency < 1 or
  // 0 < max_vocab < 3.
  static Vocabulary build(const std::vector<std::vector<std::string>>& documents, const VocabularyOptions& options);

  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  // The id of `word`, or -1 when it is out of vocabulary (the caller picks <unk> or dropping).
  int64_t find(const std::string& word) const;
  int64_t id_or_unk(const std::string& word) const { const int64_t i = find(word); return i < 0 ? kUnk : i; }
  const std::string& word(int64_t id) const { return words_.at(static_cast<size_t>(id)); }
  const std::vector<std::string>& words() const { return words_; }

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace attnlab::datasets
