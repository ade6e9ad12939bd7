// ABMIL (notes attention_regularizers.md §6 property 24 and 23): for every pooling, the logits and
// the attention entropy do not change when the instances of a bag are permuted, and padding a bag
// with masked instances (garbage features) changes neither the logits, the entropy nor the
// gradients; the tap sees the pool scores (B, 1, 1, N) and the instance embeddings; bad
// combinations are refused.
#include "models/abmil.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention/mha/mha.h"
#include "attention/regularizers/perturbation.h"

namespace attnlab::models {
namespace {

AttentionBuilder mha_builder() {
  return [](int, int64_t d_model) {
    return std::make_shared<attention::MultiHeadAttention>(attention::MhaOptions{d_model, 4});
  };
}

std::shared_ptr<Abmil> make(const std::string& encoder, const std::string& pooling, int64_t features = 64) {
  torch::manual_seed(0);
  InputSpec spec;
  spec.num_classes = 2;
  spec.feature_dim = features;
  spec.max_length = 16;
  auto m = std::make_shared<Abmil>(AbmilOptions{encoder, 16, pooling, 8, 0.0}, spec, mha_builder());
  m->to(torch::kDouble);
  return m;
}

struct BagRun {
  torch::Tensor logits, entropy;  // entropy: mean over valid rows at site "pool", per bag (B)
  std::vector<torch::Tensor> grads;
};

BagRun run(Abmil& m, const torch::Tensor& x, const torch::Tensor& mask) {
  m.zero_grad();
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  const auto out = m.forward(ModelInput{x, mask}, ctx);
  // The mask the site reported: (B, N), or (B, N + 1) with the query token for attention pooling.
  const auto it = ctx.masks().find("pool");
  const auto site_mask = it == ctx.masks().end() ? torch::Tensor() : it->second;
  const auto [h, valid] = attention::attention_row_entropy(ctx.weights().at("pool"), site_mask, false);
  const auto v = valid.to(h.scalar_type());
  BagRun r{out.logits, (h * v).sum({1, 2}) / v.sum({1, 2}), {}};
  (out.logits.select(1, 1).sum() + r.entropy.sum()).backward();
  for (const auto& p : m.parameters()) r.grads.push_back(p.grad().clone());
  return r;
}

void expect_same(const BagRun& a, const BagRun& b) {
  EXPECT_TRUE(torch::allclose(a.logits, b.logits, 1e-9, 1e-11)) << a.logits << b.logits;
  EXPECT_TRUE(torch::allclose(a.entropy, b.entropy, 1e-9, 1e-11)) << a.entropy << b.entropy;
  ASSERT_EQ(a.grads.size(), b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) EXPECT_TRUE(torch::allclose(a.grads[i], b.grads[i], 1e-8, 1e-10));
}

TEST(Abmil, PermutingOrPaddingInstancesChangesNothing) {
  for (const auto& [encoder, pooling] : std::vector<std::pair<std::string, std::string>>{
           {"conv", "gated"}, {"linear", "additive"}, {"linear", "attention"}}) {
    SCOPED_TRACE(encoder + " " + pooling);
    auto m = make(encoder, pooling);
    torch::manual_seed(1);
    const auto x = torch::rand({3, 6, 64}, torch::kDouble);
    const BagRun base = run(*m, x, {});
    const auto perm = torch::tensor({4L, 0L, 5L, 2L, 1L, 3L});
    expect_same(base, run(*m, x.index_select(1, perm), {}));
    // Padding: three masked instances of garbage per bag, at the end for bag 0 and in front for
    // the others (where the mask is, not the order, must decide).
    const auto garbage = torch::rand({3, 3, 64}, torch::kDouble) * 5;
    auto padded = torch::cat({x, garbage}, 1);  // (3, 9, 64)
    auto mask = torch::zeros({3, 9}, torch::kBool);
    mask.narrow(1, 6, 3).fill_(true);
    for (int64_t k = 1; k < 3; ++k) {
      padded[k] = torch::cat({garbage[k], x[k]}, 0);
      mask[k] = torch::cat({torch::ones({3}, torch::kBool), torch::zeros({6}, torch::kBool)});
    }
    expect_same(base, run(*m, padded, mask));
  }
}

TEST(Abmil, TapSeesPoolScoresAndInstanceEmbeddings) {
  auto m = make("conv", "gated");
  attention::ForwardContext ctx;
  ctx.set_record_scores(true);
  ctx.set_record_embeddings(true);
  const auto out = m->forward(ModelInput{torch::rand({2, 5, 64}, torch::kDouble), {}}, ctx);
  EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ctx.scores().at("pool").sizes(), (std::vector<int64_t>{2, 1, 1, 5}));
  EXPECT_EQ(ctx.embeddings().at("embed").sizes(), (std::vector<int64_t>{2, 5, 16}));
  // A perturbation of the pool scores reaches the output (what attention AT relies on).
  attention::ForwardContext adv;
  adv.set_perturbation("pool", torch::tensor({5.0, 0.0, 0.0, 0.0, -5.0}, torch::kDouble).view({1, 1, 1, 5}));
  const auto x = torch::rand({2, 5, 64}, torch::kDouble);
  attention::ForwardContext clean;
  EXPECT_FALSE(torch::allclose(m->forward(ModelInput{x, {}}, adv).logits, m->forward(ModelInput{x, {}}, clean).logits));
  // Attention pooling: the module's scores cover the query token and the instances.
  auto a = make("linear", "attention", 10);
  attention::ForwardContext actx;
  actx.set_record_scores(true);
  a->forward(ModelInput{torch::rand({2, 5, 10}, torch::kDouble), {}}, actx);
  EXPECT_EQ(actx.scores().at("pool").sizes(), (std::vector<int64_t>{2, 4, 6, 6}));
}

// The gated score (attention/additive/additive_pooling.h, score: gated) against a plain
// scalar-loop reference of Ilse et al.'s formula, and the pooled vector against
// sum_n softmax(s)_n h_n.
TEST(Abmil, GatedPoolingFollowsIlseFormula) {
  torch::manual_seed(3);
  attention::AdditivePooling gated(attention::AdditivePoolingOptions{6, 4, "gated"});
  gated->to(torch::kDouble);
  const auto h = torch::randn({2, 5, 6}, torch::kDouble);
  auto p = gated->named_parameters();
  const auto w = p["w.weight"], b = p["w.bias"], u = p["u.weight"], c = p["u.bias"], v = p["v.weight"];
  attention::ForwardContext ctx;
  const auto out = gated->forward(h, {}, ctx, "pool");
  for (int64_t i = 0; i < 2; ++i) {
    std::vector<double> s(5);
    for (int64_t t = 0; t < 5; ++t) {
      double score = 0;
      for (int64_t a = 0; a < 4; ++a) {
        double x = b[a].item<double>(), g = c[a].item<double>();
        for (int64_t d = 0; d < 6; ++d) {
          x += w[a][d].item<double>() * h[i][t][d].item<double>();
          g += u[a][d].item<double>() * h[i][t][d].item<double>();
        }
        score += v[0][a].item<double>() * std::tanh(x) / (1.0 + std::exp(-g));
      }
      s[t] = score;
      EXPECT_NEAR(gated->scores(h)[i][t].item<double>(), score, 1e-12);
    }
    double z = 0;
    for (const double x : s) z += std::exp(x);
    for (int64_t d = 0; d < 6; ++d) {
      double want = 0;
      for (int64_t t = 0; t < 5; ++t) want += std::exp(s[t]) / z * h[i][t][d].item<double>();
      EXPECT_NEAR(out.context[i][d].item<double>(), want, 1e-12);
    }
  }
}

TEST(Abmil, RefusesDataItCannotRead) {
  InputSpec spec;
  spec.num_classes = 2;
  spec.feature_dim = 10;
  EXPECT_THROW(Abmil(AbmilOptions{}, spec, {}), std::invalid_argument);  // conv needs 64 features
  spec.feature_dim = 64;
  EXPECT_THROW(Abmil(AbmilOptions{"conv", 16, "attention", 8, 0.0}, spec, {}), std::invalid_argument);
  spec.vocab_size = 100;
  EXPECT_THROW(Abmil(AbmilOptions{}, spec, {}), std::invalid_argument);
}

}  // namespace
}  // namespace attnlab::models
