// MoH's skip path (skip_unselected) against the dense path (moh_mega.md §5.4): same outputs,
// aux losses and gradients; and the tap rule: the skip path runs only when the context neither
// records nor perturbs the site, so a tap never sees anything but the real dense scores/weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "attention/moh/moh.h"
#include "mha_test_util.h"
#include "moh_test_util.h"

namespace attnlab::attention {
namespace {

using testing::make_moh;
using testing::max_abs_diff;
using testing::moh_options;
using testing::padding_from_lengths;

// A dense module and a skip module with identical weights.
std::pair<std::shared_ptr<MixtureOfHeadsAttention>, std::shared_ptr<MixtureOfHeadsAttention>> twins(
    MohOptions options, torch::Dtype dtype, uint64_t seed) {
  options.skip_unselected = false;
  auto dense = make_moh(options, dtype, seed);
  options.skip_unselected = true;
  auto skip = make_moh(options, dtype, seed);
  return {dense, skip};
}

const std::vector<MohOptions>& configs() {
  static const std::vector<MohOptions> all = {moh_options(16, 4, 1, 2), moh_options(24, 6, 0, 2),
                                              moh_options(24, 6, 2, 3, "query_norm")};
  return all;
}

// (T, padded, causal, config)
class MohSkip : public ::testing::TestWithParam<std::tuple<int64_t, bool, bool, size_t>> {};

TEST_P(MohSkip, EqualsDenseWithGradients) {
  const auto [t, padded, causal, config] = GetParam();
  auto [dense, skip] = twins(configs()[config], torch::kDouble, 31 + t);
  dense->train();  // training mode: the balance loss must agree too (dropout is 0)
  skip->train();
  const int64_t d = dense->options().d_model;
  const auto x = torch::randn({3, t, d}, torch::kDouble);
  torch::Tensor mask;
  if (padded) mask = padding_from_lengths({t, std::max<int64_t>(1, t - 3), 0}, t);
  const auto probe = torch::randn({3, t, d}, torch::kDouble);

  std::vector<torch::Tensor> x_grads;
  std::vector<AttentionOutput> outs;
  for (auto* module : {dense.get(), skip.get()}) {
    const auto xi = x.clone().requires_grad_(true);
    ForwardContext ctx;
    auto result = module->forward({xi, mask, causal}, ctx, "layer0");
    auto loss = (result.out * probe).sum();
    for (const auto& aux : result.aux_losses) loss = loss + aux.value;
    loss.backward();
    x_grads.push_back(xi.grad());
    outs.push_back(result);
  }
  EXPECT_FALSE(dense->last_forward_skipped());
  EXPECT_TRUE(skip->last_forward_skipped());
  EXPECT_TRUE(torch::isfinite(outs[1].out).all().item<bool>());
  EXPECT_LT(max_abs_diff(outs[0].out, outs[1].out), 1e-12);
  ASSERT_EQ(outs[0].aux_losses.size(), outs[1].aux_losses.size());
  for (size_t i = 0; i < outs[0].aux_losses.size(); ++i) {
    EXPECT_LT(max_abs_diff(outs[0].aux_losses[i].value, outs[1].aux_losses[i].value), 1e-12);
  }
  EXPECT_LT(max_abs_diff(x_grads[0], x_grads[1]), 1e-12);
  const auto skip_params = skip->named_parameters();
  for (const auto& p : dense->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_LT(max_abs_diff(p.value().grad(), skip_params[p.key()].grad()), 1e-12) << p.key();
  }
}

INSTANTIATE_TEST_SUITE_P(OddLengths, MohSkip,
                         ::testing::Combine(::testing::Values<int64_t>(1, 7, 33), ::testing::Bool(),
                                            ::testing::Bool(), ::testing::Range<size_t>(0, 3)),
                         [](const auto& info) {
                           return "T" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_padded" : "_full") +
                                  (std::get<2>(info.param) ? "_causal" : "_bidir") + "_config" +
                                  std::to_string(std::get<3>(info.param));
                         });

TEST(MohSkip, Float32EqualsDense) {
  auto [dense, skip] = twins(moh_options(32, 8, 2, 3), torch::kFloat, 41);
  const auto x = torch::randn({2, 20, 32});
  const auto mask = padding_from_lengths({20, 11}, 20);
  ForwardContext c1, c2;
  EXPECT_LT(max_abs_diff(dense->forward({x, mask, true}, c1, "s").out,
                         skip->forward({x, mask, true}, c2, "s").out),
            1e-5);
  EXPECT_TRUE(skip->last_forward_skipped());
}

// With an inert context the skip path leaves no trace in it except the site's name.
TEST(MohSkipTap, InertContextRecordsNothing) {
  auto [dense, skip] = twins(moh_options(16, 4, 1, 2), torch::kFloat, 43);
  ForwardContext ctx;
  skip->forward({torch::randn({2, 5, 16}), {}, false}, ctx, "layer3");
  EXPECT_TRUE(skip->last_forward_skipped());
  EXPECT_EQ(ctx.sites(), (std::vector<std::string>{"layer3"}));
  EXPECT_TRUE(ctx.scores().empty());
  EXPECT_TRUE(ctx.weights().empty());
  EXPECT_TRUE(ctx.masks().empty());
}

// Recording scores or weights makes the skip module fall back to the dense path, so what is
// recorded is the full (B, H, T, T) tensor, identical to the dense module's, with its graph.
TEST(MohSkipTap, RecordingFallsBackToDense) {
  auto [dense, skip] = twins(moh_options(16, 4, 1, 2), torch::kDouble, 47);
  dense->train();
  skip->train();
  const auto x = torch::randn({2, 6, 16}, torch::kDouble);
  const auto mask = padding_from_lengths({6, 4}, 6);
  for (int what = 0; what < 2; ++what) {
    ForwardContext c_dense, c_skip;
    for (auto* c : {&c_dense, &c_skip}) {
      if (what == 0) c->set_record_scores(true);
      if (what == 1) c->set_record_weights(true);
    }
    const auto a = dense->forward({x, mask, false}, c_dense, "layer0").out;
    const auto b = skip->forward({x, mask, false}, c_skip, "layer0").out;
    EXPECT_FALSE(skip->last_forward_skipped()) << what;
    EXPECT_LT(max_abs_diff(a, b), 1e-12);
    const auto& recorded = what == 0 ? c_skip.scores() : c_skip.weights();
    const auto& expected = what == 0 ? c_dense.scores() : c_dense.weights();
    ASSERT_EQ(recorded.count("layer0"), 1u);
    const auto& r = recorded.at("layer0");
    EXPECT_EQ(r.sizes(), (std::vector<int64_t>{2, 4, 6, 6}));
    EXPECT_EQ(r.strides(), expected.at("layer0").strides());  // a real tensor, not the probe
    EXPECT_LT(max_abs_diff(r, expected.at("layer0")), 1e-12);
    EXPECT_TRUE(r.requires_grad());
    EXPECT_TRUE(torch::equal(c_skip.masks().at("layer0"), mask));
  }
}

// A perturbation reaches the output through the dense path, exactly as in the dense module, and
// is masked at padded keys like the scores themselves.
TEST(MohSkipTap, PerturbationFallsBackToDense) {
  auto [dense, skip] = twins(moh_options(16, 4, 1, 2, "query_norm"), torch::kDouble, 53);
  const auto x = torch::randn({2, 6, 16}, torch::kDouble);
  const auto mask = padding_from_lengths({6, 4}, 6);
  const auto r = torch::randn({2, 4, 6, 6}, torch::kDouble);
  ForwardContext plain;
  const auto base = skip->forward({x, mask, false}, plain, "layer0").out;
  ForwardContext c_dense, c_skip;
  c_dense.set_perturbation("layer0", r);
  c_skip.set_perturbation("layer0", r);
  const auto a = dense->forward({x, mask, false}, c_dense, "layer0").out;
  const auto b = skip->forward({x, mask, false}, c_skip, "layer0").out;
  EXPECT_FALSE(skip->last_forward_skipped());
  EXPECT_LT(max_abs_diff(a, b), 1e-12);
  EXPECT_GT(max_abs_diff(b, base), 1e-3);
  // Perturbing only padded keys changes nothing.
  ForwardContext c_pad;
  c_pad.set_perturbation("layer0", torch::where(mask.view({2, 1, 1, 6}), r, torch::zeros_like(r)));
  EXPECT_LT(max_abs_diff(skip->forward({x, mask, false}, c_pad, "layer0").out, base), 1e-12);
  // A perturbation for another site leaves the skip path on.
  ForwardContext c_other;
  c_other.set_perturbation("layer9", r);
  skip->forward({x, mask, false}, c_other, "layer0");
  EXPECT_TRUE(skip->last_forward_skipped());
}

// The tap in dense mode: recorded scores carry their graph to the projections.
TEST(MohTap, RecordedScoresCarryTheGraph) {
  auto moh = make_moh(moh_options(16, 4, 2, 1), torch::kDouble, 59);
  ForwardContext ctx;
  ctx.set_record_scores(true);
  ctx.set_record_weights(true);
  moh->forward({torch::randn({2, 5, 16}, torch::kDouble), {}, true}, ctx, "layer0");
  const auto& scores = ctx.scores().at("layer0");
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{2, 4, 5, 5}));
  (scores * scores).sum().backward();
  EXPECT_GT(moh->q_proj()->weight.grad().abs().sum().item<double>(), 0.0);
  // Weights are the softmax over visible keys, untouched by the gates: rows sum to 1.
  const auto& weights = ctx.weights().at("layer0");
  EXPECT_LT(max_abs_diff(weights.sum(-1), torch::ones({2, 4, 5}, torch::kDouble)), 1e-12);
}

}  // namespace
}  // namespace attnlab::attention
