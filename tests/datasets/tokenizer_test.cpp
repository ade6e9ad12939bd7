// The text-classification tokenizer: lowercasing, the three punctuation modes, digits_to, and
// whitespace of every kind; UTF-8 bytes pass through as word characters.
#include "datasets/tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

using Tokens = std::vector<std::string>;

TEST(Tokenizer, DefaultsLowercaseAndSplitPunctuation) {
  EXPECT_EQ(tokenize("It's GREAT, isn't it?!", {}), (Tokens{"it", "'", "s", "great", ",", "isn", "'", "t", "it", "?", "!"}));
  EXPECT_EQ(tokenize("  tabs\tand\r\nnew\nlines  ", {}), (Tokens{"tabs", "and", "new", "lines"}));
  EXPECT_EQ(tokenize("", {}), Tokens{});
  EXPECT_EQ(tokenize(" ,,, ", {}), (Tokens{",", ",", ","}));
}

TEST(Tokenizer, PunctuationStripAndKeep) {
  TokenizerOptions strip;
  strip.punctuation = "strip";
  EXPECT_EQ(tokenize("Don't -- stop (now)!", strip), (Tokens{"dont", "stop", "now"}));
  TokenizerOptions keep;
  keep.punctuation = "keep";
  EXPECT_EQ(tokenize("Don't -- stop (now)!", keep), (Tokens{"don't", "--", "stop", "(now)!"}));
  keep.punctuation = "remove";
  EXPECT_THROW(tokenize("x", keep), std::invalid_argument);
}

TEST(Tokenizer, CaseAndDigits) {
  TokenizerOptions o;
  o.lowercase = false;
  o.digits_to = "qqq";
  EXPECT_EQ(tokenize("In 1990s, 3.5 Stars", o), (Tokens{"In", "qqq", ",", "qqq", ".", "qqq", "Stars"}));
  o.punctuation = "keep";
  EXPECT_EQ(tokenize("R2-D2 won 3.5/5", o), (Tokens{"qqq", "won", "qqq"}));
  o.digits_to = "";
  EXPECT_EQ(tokenize("R2-D2", o), (Tokens{"R2-D2"}));
}

TEST(Tokenizer, Utf8BytesAreWordCharacters) {
  // "Café—très" : é, the em dash and è are multi-byte UTF-8, kept as they are (no ASCII case map).
  EXPECT_EQ(tokenize("Caf\xc3\xa9 \xc3\x89t\xc3\xa9!", {}), (Tokens{"caf\xc3\xa9", "\xc3\x89t\xc3\xa9", "!"}));
}

}  // namespace
}  // namespace attnlab::datasets
