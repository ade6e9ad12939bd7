// The ListOps vocabulary and evaluator: worked values for every operator (MED on even counts is
// LRA's int(np.median): the truncated mean of the two middle values) and malformed expressions
// rejected with the offending token named.
#include "datasets/listops_expression.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

int value_of(const std::string& text) { return evaluate_listops(split_words(text)); }

void expect_invalid(const std::string& text, const std::string& part) {
  try {
    value_of(text);
    FAIL() << "expected std::invalid_argument for '" << text << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "'" << part << "' not in: " << e.what();
  }
}

TEST(ListOpsExpression, VocabularyRoundTrips) {
  const auto& vocabulary = listops_vocabulary();
  ASSERT_EQ(static_cast<int64_t>(vocabulary.size()), listops::kVocabSize);
  EXPECT_EQ(vocabulary[listops::kPad], "<pad>");
  EXPECT_EQ(vocabulary[listops::kMin], "[MIN");
  EXPECT_EQ(vocabulary[listops::kMax], "[MAX");
  EXPECT_EQ(vocabulary[listops::kMed], "[MED");
  EXPECT_EQ(vocabulary[listops::kSumMod], "[SM");
  EXPECT_EQ(vocabulary[listops::kClose], "]");
  for (int d = 0; d < 10; ++d) EXPECT_EQ(vocabulary[listops::kDigit0 + d], std::to_string(d));
  for (int64_t id = 1; id < listops::kVocabSize; ++id) {
    EXPECT_EQ(listops_token_id(vocabulary[id]), id);
  }
  for (const char* other : {"<pad>", "(", ")", "X", "MAX", "[max", "10", "", "[FIRST"}) {
    EXPECT_EQ(listops_token_id(other), -1) << other;
  }
}

TEST(ListOpsExpression, OperatorsFollowLra) {
  EXPECT_EQ(value_of("7"), 7);
  EXPECT_EQ(value_of("[MAX 2 9 [MIN 4 7 ] 0 ]"), 9);
  EXPECT_EQ(value_of("[MIN 5 [MAX 1 3 ] 8 ]"), 3);
  EXPECT_EQ(value_of("[MIN 4 ]"), 4);  // one argument is well defined, though LRA never makes it
  // MED, odd count: the middle value.
  EXPECT_EQ(value_of("[MED 9 1 5 ]"), 5);
  EXPECT_EQ(value_of("[MED 0 0 9 ]"), 0);
  // MED, even count: np.median averages the middle pair, int() truncates.
  EXPECT_EQ(value_of("[MED 1 2 ]"), 1);      // 1.5 -> 1
  EXPECT_EQ(value_of("[MED 3 8 1 6 ]"), 4);  // (3 + 6) / 2 = 4.5 -> 4
  EXPECT_EQ(value_of("[MED 9 8 ]"), 8);      // 8.5 -> 8
  EXPECT_EQ(value_of("[MED 2 4 ]"), 3);      // exact mean
  EXPECT_EQ(value_of("[MED 7 0 0 7 ]"), 3);  // (0 + 7) / 2 = 3.5 -> 3
  // SM: sum modulo 10.
  EXPECT_EQ(value_of("[SM 5 7 9 ]"), 1);
  EXPECT_EQ(value_of("[SM 9 9 9 9 9 9 9 9 9 9 ]"), 0);
  EXPECT_EQ(value_of("[SM [MAX 3 8 ] [MED 1 2 3 ] 4 ]"), 4);  // 8 + 2 + 4 = 14
  // Nesting: inner values feed outer operators.
  EXPECT_EQ(value_of("[MED [SM 9 9 ] [MIN 6 7 ] [MAX 0 1 ] 3 ]"), 4);  // MED(8, 6, 1, 3) = 4.5
}

TEST(ListOpsExpression, MalformedExpressionsNameTheToken) {
  expect_invalid("", "empty expression");
  expect_invalid("]", "token 1 (']') closes no operator");
  expect_invalid("[MAX 1 ] ]", "token 4 (']') follows the end");
  expect_invalid("[MAX ]", "token 1 ('[MAX') has no arguments");
  expect_invalid("[SM 1 [MIN ] ]", "token 3 ('[MIN') has no arguments");
  expect_invalid("[MAX 1 [MIN 2", "token 3 ('[MIN') is never closed");
  expect_invalid("1 2", "token 2 ('2') follows the end");
  expect_invalid("[MAX 1 [FIRST 2 ] ]", "token 3 ('[FIRST') is not a ListOps token");
  const uint8_t pad[] = {listops::kMax, 7, listops::kPad, listops::kClose};
  EXPECT_THROW(evaluate_listops_ids(pad, 4), std::invalid_argument);
}

TEST(ListOpsExpression, ExamplesStoreIdsBackToBack) {
  ListOpsExamples examples;
  const uint8_t first[] = {listops::kMax, listops::kDigit0 + 2, listops::kDigit0 + 9,
                           listops::kClose};
  const uint8_t second[] = {listops::kDigit0 + 4};
  examples.add(first, 4, 9);
  examples.add(second, 1, 3);  // a wrong label is stored as given
  ASSERT_EQ(examples.size(), 2);
  EXPECT_EQ(examples.offset(1), 4);
  EXPECT_EQ(examples.length(0), 4);
  EXPECT_EQ(examples.length(1), 1);
  EXPECT_EQ(examples.label(1), 3);
  EXPECT_EQ(examples.text(0), "[MAX 2 9 ]");
  EXPECT_EQ(examples.tokens(1), (std::vector<std::string>{"4"}));
  EXPECT_EQ(examples.max_length(), 4);
  EXPECT_THROW(examples.add(second, 1, 10), std::invalid_argument);
  const uint8_t bad[] = {listops::kVocabSize};
  EXPECT_THROW(examples.add(bad, 1, 0), std::invalid_argument);
  EXPECT_EQ(examples.size(), 2);
}

}  // namespace
}  // namespace attnlab::datasets
