// Suggestions for near misses: the distance, the closeness threshold, affixes, and ties.
#include <gtest/gtest.h>

#include "framework/config/did_you_mean.h"

namespace attnlab::config {
namespace {

TEST(ConfigDidYouMean, OptimalStringAlignmentDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("maen", "mean"), 1u);  // one transposition
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);     // OSA: no edits on a transposed pair
}

TEST(ConfigDidYouMean, SuggestsTheClosestWithinAThirdOfTheLength) {
  EXPECT_EQ(did_you_mean("layrs", {"d_model", "layers", "heads"}), "layers");
  EXPECT_EQ(did_you_mean("mhaa", {"mha", "moh", "mega"}), "mha");
  EXPECT_EQ(did_you_mean("maen", {"mean", "cls"}), "mean");
  EXPECT_EQ(did_you_mean("max", {"mean", "cls"}), std::nullopt);
  // A short word still gets one edit.
  EXPECT_EQ(did_you_mean("lx", {"lr"}), "lr");
  // Two edits in a six-letter word, three in a nine-letter one.
  EXPECT_EQ(did_you_mean("laiers", {"layers"}), "layers");
  EXPECT_EQ(did_you_mean("lai", {"lay_down"}), std::nullopt);
}

TEST(ConfigDidYouMean, PrefixAndSuffixMatchesAreSuggested) {
  EXPECT_EQ(did_you_mean("warmup", {"warmup_steps", "steps"}), "warmup_steps");
  EXPECT_EQ(did_you_mean("num_layers", {"layers", "heads"}), "layers");
  EXPECT_EQ(did_you_mean("x", {"x_max"}), std::nullopt);  // one shared letter is no hint
}

TEST(ConfigDidYouMean, TiesGoToTheAlphabeticallyFirst) {
  EXPECT_EQ(did_you_mean("cat", {"cot", "bat"}), "bat");
  EXPECT_EQ(did_you_mean("cat", {"bat", "cot"}), "bat");
}

TEST(ConfigDidYouMean, NothingToSuggest) {
  EXPECT_EQ(did_you_mean("", {"a"}), std::nullopt);
  EXPECT_EQ(did_you_mean("abc", {}), std::nullopt);
  EXPECT_EQ(did_you_mean_suffix("zzzzzz", {"layers"}), "");
  EXPECT_EQ(did_you_mean_suffix("layrs", {"layers"}), " (did you mean 'layers'?)");
}

}  // namespace
}  // namespace attnlab::config
