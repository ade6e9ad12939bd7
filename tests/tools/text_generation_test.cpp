// Decoding rules of `attnlab generate` on fixed logits and a small untrained decoder: greedy is the
// argmax, top-1 sampling equals greedy, pad is never picked, the same seed gives the same tokens,
// and the context window slides once the text outgrows seq_len.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <set>

#include "attention/mha/mha.h"
#include "models/decoder_lm.h"
#include "tools/commands/text_generation.h"

namespace attnlab::tools {
namespace {

constexpr int64_t kVocab = 10, kPad = 9, kContext = 6;

std::shared_ptr<models::DecoderLM> tiny_lm() {
  torch::manual_seed(0);
  models::InputSpec spec;
  spec.vocab_size = kVocab;
  spec.max_length = kContext;
  spec.pad_id = kPad;
  spec.language_model = true;
  models::DecoderLMOptions o;
  o.d_model = 16;
  o.layers = 1;
  auto model = std::make_shared<models::DecoderLM>(o, spec, [](int, int64_t d) {
    attention::MhaOptions a;
    a.d_model = d;
    a.heads = 2;
    return std::make_shared<attention::MultiHeadAttention>(a);
  });
  {
    // Larger weights than the initialisation, so the logits are far from uniform.
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0.0, 0.5);
  }
  model->eval();
  return model;
}

TEST(TextGeneration, PickFollowsTheRules) {
  auto gen = at::detail::createCPUGenerator(0);
  // The pad id has the largest logit and is still never chosen.
  const auto logits = torch::tensor({0.1, 2.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0});
  GenerationOptions greedy;
  greedy.greedy = true;
  EXPECT_EQ(pick_next_token(logits, kPad, greedy, gen), 1);
  GenerationOptions top1;
  top1.top_k = 1;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pick_next_token(logits, kPad, top1, gen), 1);
  GenerationOptions top2;
  top2.top_k = 2;
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(pick_next_token(logits, kPad, top2, gen));
  EXPECT_EQ(seen, (std::set<int64_t>{1, 3}));
  GenerationOptions all;
  all.temperature = 100.0;  // nearly uniform over the 9 usable ids
  seen.clear();
  for (int i = 0; i < 500; ++i) seen.insert(pick_next_token(logits, kPad, all, gen));
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(seen.count(kPad), 0u);
}

TEST(TextGeneration, SameSeedSameTokens) {
  auto model = tiny_lm();
  GenerationOptions o;
  o.max_new_tokens = 20;  // more than the context: the window slides
  o.seed = 7;
  const auto a = generate_tokens(*model, {1, 2, 3}, kContext, kPad, o);
  const auto b = generate_tokens(*model, {1, 2, 3}, kContext, kPad, o);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 20u);
  for (const auto id : a) EXPECT_TRUE(id >= 0 && id < kVocab && id != kPad) << id;
  o.seed = 8;
  EXPECT_NE(generate_tokens(*model, {1, 2, 3}, kContext, kPad, o), a);
}

TEST(TextGeneration, GreedyIsTheArgmaxOfTheLastWindow) {
  auto model = tiny_lm();
  GenerationOptions o;
  o.greedy = true;
  o.max_new_tokens = 10;
  const auto got = generate_tokens(*model, {4, 5}, kContext, kPad, o);
  EXPECT_EQ(got, generate_tokens(*model, {4, 5}, kContext, kPad, o));
  // Recompute step by step by hand: each token is the argmax over non-pad ids given the last
  // kContext tokens.
  std::vector<int64_t> ids = {4, 5};
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < got.size(); ++i) {
    const int64_t start = std::max<int64_t>(0, static_cast<int64_t>(ids.size()) - kContext);
    const auto window = torch::tensor(std::vector<int64_t>(ids.begin() + start, ids.end())).unsqueeze(0);
    attention::ForwardContext ctx;
    auto last = model->forward({window, torch::Tensor()}, ctx).logits[0][window.size(1) - 1].clone();
    last[kPad].fill_(-1e30);
    EXPECT_EQ(got[i], last.argmax().item<int64_t>()) << "step " << i;
    ids.push_back(got[i]);
  }
}

}  // namespace
}  // namespace attnlab::tools
