// MoH routing: the load-balance loss (moh_mega.md §1.3, §5.5), the query-norm router (§1.4,
// §5.7) and the routing statistics the framework logs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "attention/moh/moh.h"
#include "attention/moh/moh_reference.h"
#include "gradcheck.h"
#include "mha_test_util.h"
#include "moh_test_util.h"

namespace attnlab::attention {
namespace {

using testing::make_moh;
using testing::max_abs_diff;
using testing::moh_options;
using testing::padding_from_lengths;

AttentionOutput run(MixtureOfHeadsAttention& moh, const torch::Tensor& x,
                    const torch::Tensor& mask = {}, bool causal = false) {
  ForwardContext ctx;
  return moh.forward(AttentionCall{x, mask, causal}, ctx, "layer0");
}

TEST(MohBalance, EqualsTheFormulaOverRealTokens) {
  auto options = moh_options(16, 8, 2, 3);
  auto moh = make_moh(options, torch::kDouble, 1);
  moh->train();
  const auto x = torch::randn({3, 9, 16}, torch::kDouble);
  const auto mask = padding_from_lengths({9, 4, 6}, 9);
  const auto aux = run(*moh, x, mask).aux_losses;
  ASSERT_EQ(aux.size(), 1u);
  EXPECT_EQ(aux[0].name, "moh_balance");
  EXPECT_DOUBLE_EQ(aux[0].weight, 0.01);
  EXPECT_EQ(aux[0].value.dim(), 0);
  EXPECT_NEAR(aux[0].value.item<double>(), moh_reference_balance(x, mask, *moh), 1e-12);
  // Padded tokens are not counted: filling them with anything leaves l_aux unchanged...
  const auto x2 = torch::where(mask.unsqueeze(-1), 50.0 * torch::randn_like(x), x);
  EXPECT_NEAR(run(*moh, x2, mask).aux_losses[0].value.item<double>(), aux[0].value.item<double>(),
              1e-12);
  // ... while counting them would give a different value (the check has teeth).
  EXPECT_GT(std::abs(moh_reference_balance(x, {}, *moh) - aux[0].value.item<double>()), 1e-6);
}

TEST(MohBalance, UniformRoutingGivesK) {
  for (int64_t k : {1, 2, 4}) {
    auto moh = make_moh(moh_options(12, 6, 2, k), torch::kDouble, 2);
    testing::zero_router(moh->wg());
    moh->train();
    const auto value = run(*moh, torch::randn({2, 5, 12}, torch::kDouble)).aux_losses.at(0).value;
    EXPECT_NEAR(value.item<double>(), static_cast<double>(k), 1e-12);
  }
}

TEST(MohBalance, OnlyForRoutingLayersInTraining) {
  auto moh = make_moh(moh_options(16, 4, 1, 2), torch::kFloat, 3);
  const auto x = torch::randn({2, 5, 16});
  EXPECT_TRUE(run(*moh, x).aux_losses.empty());  // eval
  auto all_shared = make_moh(moh_options(16, 4, 4, 0), torch::kFloat, 3);
  all_shared->train();
  EXPECT_TRUE(run(*all_shared, x).aux_losses.empty());  // K == 0
  auto query_norm = make_moh(moh_options(16, 4, 1, 2, "query_norm"), torch::kFloat, 3);
  query_norm->train();
  EXPECT_TRUE(run(*query_norm, x).aux_losses.empty());  // parameter-free router
}

// The top-K mask is a constant: l_aux's gradient reaches W_r through P only, nothing else, and
// matches central differences (which never flip the top-K at eps 1e-6 with a decisive router).
TEST(MohBalance, GradientFlowsOnlyThroughRouterProbabilities) {
  auto moh = make_moh(moh_options(8, 4, 1, 2), torch::kDouble, 4);
  moh->train();
  const auto x = torch::randn({2, 5, 8}, torch::kDouble).requires_grad_(true);
  const auto mask = padding_from_lengths({5, 3}, 5);
  run(*moh, x, mask).aux_losses.at(0).value.backward();
  for (const auto& p : moh->named_parameters()) {
    const bool expect_grad = p.key() == "wg.weight";
    const bool has_grad =
        p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
    EXPECT_EQ(has_grad, expect_grad) << p.key();
  }
  const auto loss = [&] { return run(*moh, x, mask).aux_losses.at(0).value; };
  const auto r = testing::gradcheck(loss, moh->wg()->weight);
  EXPECT_GT(r.max_abs_grad, 1e-4);
  EXPECT_LT(r.max_abs_error, 1e-8);
  // Written out: dl/dW_r = d(h_r sum_i P_i f_i)/dW_r with f held fixed.
  moh->wg()->weight.mutable_grad() = torch::Tensor();
  const auto probs = torch::softmax(moh->wg()->forward(x.detach()), -1);   // (B,T,h_r)
  const auto valid = mask.logical_not().unsqueeze(-1).to(torch::kDouble);  // (B,T,1)
  const auto chosen = moh->last_routing().selected.narrow(-1, 1, 3).to(torch::kDouble);
  const auto count = valid.sum();
  const auto mean_prob = (probs * valid).reshape({-1, 3}).sum(0) / count;  // P (h_r)
  const auto fraction = (chosen * valid).reshape({-1, 3}).sum(0) / count;  // f (h_r)
  const auto manual = 3.0 * (mean_prob * fraction).sum();
  const auto grad_manual = torch::autograd::grad(
      torch::autograd::variable_list{manual}, torch::autograd::variable_list{moh->wg()->weight})[0];
  loss().backward();
  EXPECT_LT(max_abs_diff(moh->wg()->weight.grad(), grad_manual), 1e-12);
}

TEST(MohQueryNorm, BinaryGatesOnTheLargestQueryNorms) {
  auto moh = make_moh(moh_options(32, 8, 2, 3, "query_norm"), torch::kDouble, 5);
  const auto x = torch::randn({2, 7, 32}, torch::kDouble);
  run(*moh, x);
  const auto gates = moh->last_routing().gates;  // (B,T,H)
  EXPECT_TRUE(torch::logical_or(gates.eq(0), gates.eq(1)).all().item<bool>());
  EXPECT_TRUE(torch::equal(gates.sum(-1), torch::full({2, 7}, 5.0, torch::kDouble)));
  EXPECT_TRUE(torch::equal(gates.narrow(-1, 0, 2), torch::ones({2, 7, 2}, torch::kDouble)));
  // The selected routed heads are those with the largest ||q_i||.
  const auto q = moh->q_proj()->forward(x).detach().view({2, 7, 8, 4});  // (B,T,H,d_h)
  const auto norms = q.narrow(2, 2, 6).norm(2, -1);                      // (B,T,h_r)
  const auto top = std::get<1>(norms.topk(3, -1));
  const auto expected = torch::zeros_like(norms).scatter(-1, top, 1.0);
  EXPECT_TRUE(torch::equal(gates.narrow(-1, 2, 6), expected));
  EXPECT_LT(max_abs_diff(gates, moh_reference_gates(x, *moh)), 1e-15);
  EXPECT_EQ(moh->parameters().size(), 8u);  // q/k/v/out weights and biases only
}

TEST(MohStats, UsageOverRealTokens) {
  auto moh = make_moh(moh_options(16, 8, 2, 3), torch::kFloat, 6);
  const auto x = torch::randn({2, 6, 16});
  const auto mask = padding_from_lengths({6, 2}, 6);
  run(*moh, x, mask);
  const auto stats = moh->last_routing_stats();
  EXPECT_EQ(stats.tokens, 8);
  ASSERT_EQ(stats.head_usage.sizes(), (std::vector<int64_t>{8}));
  EXPECT_FALSE(stats.head_usage.requires_grad());
  const auto selected = moh->last_routing().selected.to(torch::kFloat);         // (B,T,H)
  const auto real = torch::cat({selected[0], selected[1].narrow(0, 0, 2)}, 0);  // (8,H)
  EXPECT_LT(max_abs_diff(stats.head_usage, real.mean(0)), 1e-6);
  EXPECT_LT(max_abs_diff(stats.head_usage.narrow(0, 0, 2), torch::ones({2})), 1e-7);
  EXPECT_NEAR(stats.head_usage.narrow(0, 2, 6).sum().item<double>(), 3.0, 1e-6);
  EXPECT_NEAR(stats.active_fraction, 5.0 / 8.0, 1e-6);
}

// What the module reports through the context (and the trainer logs) is the same summary.
TEST(MohStats, ReportedThroughTheContext) {
  auto moh = make_moh(moh_options(16, 8, 2, 3), torch::kFloat, 6);
  const auto x = torch::randn({2, 6, 16});
  const auto mask = padding_from_lengths({6, 2}, 6);
  ForwardContext ctx;
  moh->forward(AttentionCall{x, mask, false}, ctx, "layer3");
  const auto stats = moh->last_routing_stats();
  ASSERT_EQ(ctx.statistics().size(), 2u);
  for (const auto& s : ctx.statistics()) {
    EXPECT_EQ(s.site, "layer3");
    EXPECT_FALSE(s.value.requires_grad());
    if (s.name == "moh_head_usage") {
      EXPECT_LT(max_abs_diff(s.value, stats.head_usage), 1e-7);
    } else {
      EXPECT_EQ(s.name, "moh_active_fraction");
      EXPECT_NEAR(s.value.item<double>(), 5.0 / 8.0, 1e-6);
    }
  }
}

}  // namespace
}  // namespace attnlab::attention
