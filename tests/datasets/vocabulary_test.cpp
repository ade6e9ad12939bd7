// The text-classification vocabulary: <pad> 0 and <unk> 1, min_frequency, max_vocab counting the
// special ids, and an order (count descending, then the word) that does not depend on input order.
#include "datasets/vocabulary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

using Docs = std::vector<std::vector<std::string>>;

const Docs kDocs = {{"b", "a", "c", "a"}, {"d", "c", "a", "b"}, {"e"}};  // a:3 b:2 c:2 d:1 e:1

TEST(Vocabulary, SpecialIdsThenCountThenWord) {
  const auto v = Vocabulary::build(kDocs, {});
  EXPECT_EQ(v.words(), (std::vector<std::string>{"<pad>", "<unk>", "a", "b", "c", "d", "e"}));
  EXPECT_EQ(v.find("c"), 4);
  EXPECT_EQ(v.find("zzz"), -1);
  EXPECT_EQ(v.id_or_unk("zzz"), Vocabulary::kUnk);
}

TEST(Vocabulary, DeterministicWhateverTheDocumentOrder) {
  Docs shuffled = kDocs;
  std::reverse(shuffled.begin(), shuffled.end());
  for (auto& d : shuffled) std::reverse(d.begin(), d.end());
  EXPECT_EQ(Vocabulary::build(shuffled, {}).words(), Vocabulary::build(kDocs, {}).words());
}

TEST(Vocabulary, MinFrequencyAndMaxVocab) {
  VocabularyOptions o;
  o.min_frequency = 2;
  EXPECT_EQ(Vocabulary::build(kDocs, o).words(), (std::vector<std::string>{"<pad>", "<unk>", "a", "b", "c"}));
  o.min_frequency = 1;
  o.max_vocab = 4;  // incl. <pad> and <unk>
  EXPECT_EQ(Vocabulary::build(kDocs, o).words(), (std::vector<std::string>{"<pad>", "<unk>", "a", "b"}));
  o.max_vocab = 2;
  EXPECT_THROW(Vocabulary::build(kDocs, o), std::invalid_argument);
  o.max_vocab = 0;
  o.min_frequency = 0;
  EXPECT_THROW(Vocabulary::build(kDocs, o), std::invalid_argument);
}

TEST(Vocabulary, LiteralSpecialTokensKeepTheirIds) {
  const auto v = Vocabulary::build({{"<unk>", "<unk>", "<pad>", "x"}}, {});
  EXPECT_EQ(v.words(), (std::vector<std::string>{"<pad>", "<unk>", "x"}));
}

}  // namespace
}  // namespace attnlab::datasets
