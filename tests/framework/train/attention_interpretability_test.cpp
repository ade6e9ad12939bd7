// Attention interpretability over a split, on a one-layer attention-pooling model whose attention
// and gradient importance have closed forms: aligned / anti-aligned rationales give AUCs of 1 / 0,
// uniform attention gives entropy log n, and the gradient agreement equals an independent
// computation with the attention held constant (Jain & Wallace's detach).
#include "framework/train/attention_interpretability.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "framework/metrics/interpretability.h"

namespace attnlab::train {
namespace {

// e = E[tokens] (tapped at "embed"); s_t = w . e_t (tapped at "pool"); a = masked softmax(s);
// c = sum_t a_t e_t; logits = W c.
struct PoolingModel : models::Model {
  torch::Tensor table, w, head;
  PoolingModel() {
    torch::manual_seed(5);
    table = register_parameter("table", torch::randn({12, 4}, torch::kDouble));
    w = register_parameter("w", torch::randn({4}, torch::kDouble));
    head = register_parameter("head", torch::randn({3, 4}, torch::kDouble));
  }
  models::ModelOutput forward(const models::ModelInput& in, attention::ForwardContext& ctx) override {
    const auto e = ctx.on_embeddings("embed", table.index_select(0, in.inputs.flatten()).view({in.inputs.size(0), in.inputs.size(1), 4}),
                                     in.padding_mask);
    auto s = ctx.on_scores("pool", torch::matmul(e, w).unsqueeze(1).unsqueeze(1), in.padding_mask);  // (B,1,1,T)
    if (in.padding_mask.defined()) s = s.masked_fill(in.padding_mask.unsqueeze(1).unsqueeze(1), -INFINITY);
    const auto a = torch::softmax(s, -1);
    ctx.on_weights("pool", a);
    const auto c = torch::matmul(a.squeeze(1), e).squeeze(1);  // (B,4)
    return {torch::matmul(c, head.t()), {}};
  }
};

class FixedSplit : public datasets::Split {
 public:
  explicit FixedSplit(datasets::Batch b) : b_(std::move(b)) {}
  int64_t size() const override { return b_.inputs.size(0); }
  datasets::Batch batch(const std::vector<int64_t>& idx) const override {
    const auto i = torch::tensor(idx, torch::kLong);
    datasets::Batch out;
    out.inputs = b_.inputs.index_select(0, i);
    out.padding_mask = b_.padding_mask.index_select(0, i);
    out.labels = b_.labels.index_select(0, i);
    if (b_.rationale.defined()) out.rationale = b_.rationale.index_select(0, i);
    return out;
  }

 private:
  datasets::Batch b_;
};

datasets::Batch three_examples() {
  datasets::Batch b;
  b.inputs = torch::tensor({{1, 2, 3, 4, 5}, {6, 7, 8, 0, 0}, {9, 10, 11, 2, 0}}, torch::kLong);
  b.padding_mask = b.inputs == 0;
  b.labels = torch::tensor({0, 1, 2}, torch::kLong);
  return b;
}

// The rationale marking, per example, the k tokens the model attends to most (or least).
torch::Tensor rationale_by_attention(PoolingModel& model, const datasets::Batch& b, bool most) {
  torch::NoGradGuard no_grad;
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  model.forward({b.inputs, b.padding_mask}, ctx);
  auto a = ctx.weights().at("pool").squeeze(1).squeeze(1).masked_fill(b.padding_mask, most ? -1.0 : 2.0);
  const auto top = std::get<1>(a.topk(2, -1, /*largest=*/most));
  return torch::zeros_like(b.inputs).scatter(1, top, 1);
}

TEST(AttentionInterpretability, AlignedRationaleScoresOneAndAntiAlignedZero) {
  PoolingModel model;
  auto b = three_examples();
  b.rationale = rationale_by_attention(model, b, true);
  auto r = evaluate_interpretability(model, FixedSplit(b), {}, torch::kCPU);
  EXPECT_EQ(r.site, "pool");
  EXPECT_NEAR(r.metrics.at("rationale_roc_auc"), 1.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("rationale_auprc"), 1.0, 1e-12);
  EXPECT_NEAR(r.metrics.at("rationale_average_precision"), 1.0, 1e-12);
  EXPECT_EQ(r.counted.at("rationale_roc_auc"), 3);
  b.rationale = rationale_by_attention(model, b, false);
  r = evaluate_interpretability(model, FixedSplit(b), {}, torch::kCPU);
  EXPECT_NEAR(r.metrics.at("rationale_roc_auc"), 0.0, 1e-12);
  EXPECT_LT(r.metrics.at("localisation_auc"), 0.5);
}

TEST(AttentionInterpretability, UniformAttentionHasEntropyLogNAndNoRationaleMeansNoRationaleMetrics) {
  PoolingModel model;
  {
    torch::NoGradGuard no_grad;
    model.w.zero_();
  }
  const auto r = evaluate_interpretability(model, FixedSplit(three_examples()), {}, torch::kCPU);
  EXPECT_NEAR(r.metrics.at("attention_entropy"), (std::log(5.0) + std::log(3.0) + std::log(4.0)) / 3, 1e-12);
  EXPECT_NEAR(r.metrics.at("attention_entropy_normalized"), 1.0, 1e-12);
  EXPECT_EQ(r.metrics.count("rationale_auprc"), 0u);
  EXPECT_EQ(r.metrics.count("localisation_auc"), 0u);
  // Uniform attention is constant per example: correlation is undefined, so nothing is counted.
  EXPECT_EQ(r.counted.at("gradient_pearson"), 0);
}

TEST(AttentionInterpretability, GradientAgreementHoldsTheAttentionConstant) {
  PoolingModel model;
  const auto b = three_examples();
  const auto r = evaluate_interpretability(model, FixedSplit(b), {}, torch::kCPU);
  // Reference: with a constant, p_y(c) for the predicted y, c = sum a_t e_t, so
  // dp/de_t = a_t * W^T dp/dlogits, and the importance is |a_t (W^T dp/dlogits) . e_t|.
  torch::NoGradGuard no_grad;
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  const auto logits = model.forward({b.inputs, b.padding_mask}, ctx).logits;
  const auto a = ctx.weights().at("pool").squeeze(1).squeeze(1);  // (B,T)
  const auto p = torch::softmax(logits, -1);
  double pearson_sum = 0, kendall_sum = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t y = p[i].argmax().item<int64_t>();
    const auto dp_dlogits = p[i][y] * (torch::one_hot(torch::tensor(y), 3).to(torch::kDouble) - p[i]);  // (C)
    const auto direction = torch::matmul(model.head.t(), dp_dlogits);                                    // (4)
    const auto e = model.table.index_select(0, b.inputs[i]);                                              // (T,4)
    const auto valid = ~b.padding_mask[i];
    const auto imp = (a[i] * torch::matmul(e, direction)).abs().masked_select(valid);
    const auto att = a[i].masked_select(valid);
    const std::vector<double> iv(imp.data_ptr<double>(), imp.data_ptr<double>() + imp.numel());
    const std::vector<double> av(att.contiguous().data_ptr<double>(), att.contiguous().data_ptr<double>() + att.numel());
    pearson_sum += *metrics::pearson(av, iv);
    kendall_sum += *metrics::kendall_tau(av, iv);
  }
  EXPECT_NEAR(r.metrics.at("gradient_pearson"), pearson_sum / 3, 1e-9);
  EXPECT_NEAR(r.metrics.at("gradient_kendall"), kendall_sum / 3, 1e-9);
  EXPECT_EQ(r.per_example.at("gradient_pearson").size(), 3u);
  EXPECT_TRUE(r.to_json().contains("gradient_pearson_quantiles"));
}

TEST(AttentionInterpretability, TokenAttentionAveragesHeadsAndRealQueries) {
  // Two heads, self-attention over 3 tokens, the last padded: its query row must not count.
  auto w = torch::zeros({1, 2, 3, 3}, torch::kDouble);
  w[0][0][0] = torch::tensor({1.0, 0.0, 0.0}, torch::kDouble);
  w[0][1][0] = torch::tensor({0.0, 1.0, 0.0}, torch::kDouble);
  w[0][0][1] = torch::tensor({0.5, 0.5, 0.0}, torch::kDouble);
  w[0][1][1] = torch::tensor({0.5, 0.5, 0.0}, torch::kDouble);
  w[0][0][2] = torch::tensor({0.0, 0.0, 1.0}, torch::kDouble);  // the padded query's row
  w[0][1][2] = torch::tensor({0.0, 0.0, 1.0}, torch::kDouble);
  const auto mask = torch::tensor({{false, false, true}});
  const auto got = token_attention(w, mask);
  EXPECT_TRUE(torch::allclose(got, torch::tensor({{0.5, 0.5, 0.0}}, torch::kDouble)));
}

TEST(AttentionInterpretability, UnknownSiteNamesTheSitesTheModelHas) {
  PoolingModel model;
  InterpretabilityOptions o;
  o.site = "layer9";
  try {
    evaluate_interpretability(model, FixedSplit(three_examples()), o, torch::kCPU);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no attention site 'layer9'; it has: pool"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace attnlab::train
