// BiLSTM + attention classifier: shapes, padding never reaches the logits (packed LSTM), a batch
// gives each example what it gets alone, and bad specs are refused.
#include <gtest/gtest.h>

#include "models/bilstm_attention.h"

namespace attnlab::models {
namespace {

InputSpec spec() {
  InputSpec s;
  s.num_classes = 3;
  s.vocab_size = 30;
  s.max_length = 10;
  s.pad_id = 0;
  return s;
}

TEST(BiLstmAttention, PaddingIsInvisibleAndExamplesAreIndependent) {
  torch::manual_seed(0);
  BiLstmAttentionOptions o;
  o.embed_dim = 8;
  o.hidden = 6;
  o.attention_dim = 5;
  BiLstmAttention model(o, spec());
  model.to(torch::kDouble);
  model.eval();
  auto tokens = torch::randint(1, 30, {3, 10}, torch::kLong);
  auto mask = torch::zeros({3, 10}, torch::kBool);
  mask[0].narrow(0, 4, 6).fill_(true);
  mask[2].narrow(0, 7, 3).fill_(true);
  tokens = tokens.masked_fill(mask, 0);
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  const auto batch = model.forward({tokens, mask}, ctx).logits;
  EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(ctx.weights().at("pool")[0][0][0].narrow(0, 4, 6).abs().sum().item<double>(), 0.0);
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t len = (~mask[i]).sum().item<int64_t>();
    attention::ForwardContext alone;
    const auto one = model.forward({tokens[i].narrow(0, 0, len).unsqueeze(0), torch::Tensor()}, alone).logits;
    EXPECT_LT((one[0] - batch[i]).abs().max().item<double>(), 1e-12) << i;
  }
}

TEST(BiLstmAttention, RefusesLanguageModelsAndFeatures) {
  auto lm = spec();
  lm.language_model = true;
  EXPECT_THROW(BiLstmAttention(BiLstmAttentionOptions{}, lm), std::invalid_argument);
  auto features = spec();
  features.vocab_size = 0;
  features.feature_dim = 4;
  EXPECT_THROW(BiLstmAttention(BiLstmAttentionOptions{}, features), std::invalid_argument);
}

}  // namespace
}  // namespace attnlab::models
