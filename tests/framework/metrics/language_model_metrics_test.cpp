// Language-model metrics: the batch totals against a plain per-position loop, and the identities
// between perplexity, bits per token and bits per byte.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "datasets/dataset.h"
#include "framework/metrics/language_model_metrics.h"

namespace attnlab::metrics {
namespace {

constexpr int64_t kIgnore = datasets::kIgnoreTarget;

TEST(TokenTotals, MatchAPlainLoopAndSkipIgnoredTargets) {
  torch::manual_seed(3);
  const auto logits = torch::randn({2, 4, 6});
  const auto targets = torch::tensor(std::vector<int64_t>{2, 5, 0, kIgnore, 1, 1, kIgnore, kIgnore}).view({2, 4});
  const auto bytes = torch::tensor(std::vector<int64_t>{1, 3, 2, 7, 4, 1, 9, 9}).view({2, 4});  // ignored ones must not count
  const TokenTotals got = token_totals_from(token_totals_of_batch(logits, targets, bytes));

  double nll = 0.0;
  int64_t tokens = 0, nbytes = 0, correct = 0;
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 4; ++t) {
      const int64_t y = targets[b][t].item<int64_t>();
      if (y == kIgnore) continue;
      const auto row = logits[b][t].to(torch::kDouble);
      nll += (row.exp().sum().log() - row[y]).item<double>();
      ++tokens;
      nbytes += bytes[b][t].item<int64_t>();
      if (row.argmax().item<int64_t>() == y) ++correct;
    }
  }
  EXPECT_NEAR(got.nll_sum, nll, 1e-5);
  EXPECT_EQ(got.tokens, tokens);
  EXPECT_EQ(got.tokens, 5);
  EXPECT_EQ(got.bytes, nbytes);
  EXPECT_EQ(got.bytes, 1 + 3 + 2 + 4 + 1);
  EXPECT_EQ(got.correct, correct);
}

TEST(TokenTotals, WithoutTargetBytesEachTargetIsOneByte) {
  const auto logits = torch::zeros({1, 3, 4});
  const auto targets = torch::tensor(std::vector<int64_t>{1, kIgnore, 3}).view({1, 3});
  const TokenTotals got = token_totals_from(token_totals_of_batch(logits, targets, torch::Tensor()));
  EXPECT_EQ(got.tokens, 2);
  EXPECT_EQ(got.bytes, 2);
  EXPECT_NEAR(got.nll_sum, 2 * std::log(4.0), 1e-6);  // uniform over 4 tokens
}

TEST(LanguageModelMetrics, Identities) {
  const TokenTotals uniform{/*nll_sum=*/100 * std::log(256.0), /*tokens=*/100, /*bytes=*/100, /*correct=*/7};
  // A uniform byte model: perplexity 256, 8 bits per token and per byte.
  EXPECT_NEAR(*perplexity(uniform), 256.0, 1e-9);
  EXPECT_NEAR(*bits_per_token(uniform), 8.0, 1e-12);
  EXPECT_NEAR(*bits_per_byte(uniform), 8.0, 1e-12);
  EXPECT_NEAR(*token_accuracy(uniform), 0.07, 1e-12);
  // Word tokens standing for 5 bytes each: the same information spread over 5x the bytes.
  TokenTotals words = uniform;
  words.bytes = 500;
  EXPECT_NEAR(*bits_per_byte(words), 8.0 / 5.0, 1e-12);
  EXPECT_NEAR(std::pow(2.0, *bits_per_token(words)), *perplexity(words), 1e-9);
  // Nothing counted: undefined, not 0 or NaN.
  const TokenTotals none{};
  EXPECT_FALSE(perplexity(none).has_value());
  EXPECT_FALSE(bits_per_byte(none).has_value());
  EXPECT_FALSE(token_accuracy(none).has_value());
}

}  // namespace
}  // namespace attnlab::metrics
