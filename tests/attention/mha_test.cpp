// MultiHeadAttention against the loop reference (mha_reference), plus the identities it must keep:
// padded keys are invisible, causal outputs ignore the future, gradients match finite differences.
#include "attention/mha/mha.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <tuple>

#include "attention/mha/mha_reference.h"
#include "gradcheck.h"
#include "mha_test_util.h"

namespace attnlab::attention {
namespace {

using testing::make_mha;
using testing::padding_from_lengths;

AttentionOutput run(MultiHeadAttention& mha, const torch::Tensor& x, const torch::Tensor& mask,
                    bool causal) {
  ForwardContext ctx;
  return mha.forward(AttentionCall{x, mask, causal}, ctx, "layer0");
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// (T, padded, causal)
class MhaVsReference : public ::testing::TestWithParam<std::tuple<int64_t, bool, bool>> {};

TEST_P(MhaVsReference, Float64MatchesLoops) {
  const auto [t, padded, causal] = GetParam();
  auto mha = make_mha(/*d_model=*/12, /*heads=*/3, torch::kDouble, /*seed=*/t);
  const auto x = torch::randn({3, t, 12}, torch::kDouble);
  // Example 0 unpadded, 1 and 2 padded to different lengths (at least one valid key each).
  torch::Tensor mask;
  if (padded) mask = padding_from_lengths({t, std::max<int64_t>(1, t - 2), (t + 1) / 2}, t);
  const auto out = run(*mha, x, mask, causal).out;
  const auto ref = mha_reference(x, mask, causal, *mha);
  ASSERT_EQ(out.sizes(), x.sizes());
  EXPECT_EQ(out.scalar_type(), torch::kDouble);
  EXPECT_LT(max_abs_diff(out, ref), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(OddLengths, MhaVsReference,
                         ::testing::Combine(::testing::Values<int64_t>(1, 5, 13), ::testing::Bool(),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return "T" + std::to_string(std::get<0>(info.param)) +
                                  (std::get<1>(info.param) ? "_padded" : "_full") +
                                  (std::get<2>(info.param) ? "_causal" : "_bidir");
                         });

TEST(Mha, Float32MatchesReference) {
  auto mha = make_mha(16, 4, torch::kFloat, 7);
  const auto x = torch::randn({2, 9, 16});
  const auto mask = padding_from_lengths({9, 4}, 9);
  for (bool causal : {false, true}) {
    const auto out = run(*mha, x, mask, causal).out;
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
    // The reference accumulates in double; float32's own rounding is ~1e-7 relative.
    EXPECT_LT(max_abs_diff(out, mha_reference(x, mask, causal, *mha)), 1e-5);
  }
}

TEST(Mha, WithoutBiasMatchesReference) {
  auto mha = make_mha(8, 2, torch::kDouble, 3, /*bias=*/false);
  EXPECT_FALSE(mha->q_proj()->bias.defined());
  const auto x = torch::randn({2, 6, 8}, torch::kDouble);
  EXPECT_LT(max_abs_diff(run(*mha, x, {}, false).out, mha_reference(x, {}, false, *mha)), 1e-12);
}

TEST(Mha, ParameterNames) {
  auto mha = make_mha(8, 2, torch::kFloat);
  std::vector<std::string> names;
  for (const auto& p : mha->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight",
                                             "k_proj.bias", "v_proj.weight", "v_proj.bias",
                                             "out_proj.weight", "out_proj.bias"}));
}

TEST(Mha, PaddedPositionsDoNotChangeValidOutputs) {
  auto mha = make_mha(8, 2, torch::kDouble, 11);
  const auto x = torch::randn({2, 7, 8}, torch::kDouble);
  const auto mask = padding_from_lengths({5, 3}, 7);
  // Arbitrary, large values at padded positions only.
  const auto noise = torch::randn({2, 7, 8}, torch::kDouble) * 100.0;
  const auto x2 = torch::where(mask.unsqueeze(-1), x + noise, x);  // (B,T,1) broadcast over D
  const auto valid = mask.logical_not().unsqueeze(-1).expand_as(x);
  for (bool causal : {false, true}) {
    const auto a = run(*mha, x, mask, causal).out;
    const auto b = run(*mha, x2, mask, causal).out;
    EXPECT_LT(max_abs_diff(a.masked_select(valid), b.masked_select(valid)), 1e-12);
    // The check has teeth: padded queries themselves do see the change.
    EXPECT_GT(
        max_abs_diff(a.masked_select(valid.logical_not()), b.masked_select(valid.logical_not())),
        1e-3);
  }
}

TEST(Mha, CausalOutputIgnoresTheFuture) {
  auto mha = make_mha(8, 4, torch::kDouble, 5);
  const int64_t t = 6;
  const auto x = torch::randn({2, t, 8}, torch::kDouble);
  const auto base = run(*mha, x, {}, /*causal=*/true).out;
  for (int64_t changed = 0; changed < t; ++changed) {
    auto x2 = x.clone();
    x2.select(1, changed).add_(torch::randn({2, 8}, torch::kDouble));
    const auto out = run(*mha, x2, {}, true).out;
    using torch::indexing::Slice;
    if (changed > 0) {
      EXPECT_LT(max_abs_diff(out.index({Slice(), Slice(0, changed)}),
                             base.index({Slice(), Slice(0, changed)})),
                1e-12)
          << "changing position " << changed << " changed an earlier output";
    }
    EXPECT_GT(max_abs_diff(out.select(1, changed), base.select(1, changed)), 1e-6);
  }
  // Without the causal flag the first position does see the last.
  auto x3 = x.clone();
  x3.select(1, t - 1).add_(1.0);
  EXPECT_GT(max_abs_diff(run(*mha, x3, {}, false).out.select(1, 0),
                         run(*mha, x, {}, false).out.select(1, 0)),
            1e-6);
}

// Scalar loss with fixed random weights so no gradient cancels by symmetry.
TEST(Mha, GradientsMatchFiniteDifferences) {
  auto mha = make_mha(4, 2, torch::kDouble, 13);
  const auto x = torch::randn({2, 3, 4}, torch::kDouble).requires_grad_(true);
  const auto mask = padding_from_lengths({3, 2}, 3);
  const auto probe = torch::randn({2, 3, 4}, torch::kDouble);
  for (bool causal : {false, true}) {
    const auto loss = [&] { return (run(*mha, x, mask, causal).out * probe).sum(); };
    for (const auto& [name, param] : std::vector<std::pair<std::string, torch::Tensor>>{
             {"x", x},
             {"q_proj.weight", mha->q_proj()->weight},
             {"v_proj.weight", mha->v_proj()->weight}}) {
      const auto r = testing::gradcheck(loss, param);
      EXPECT_EQ(r.checked, param.numel());
      EXPECT_GT(r.max_abs_grad, 1e-3) << name;  // a zero gradient would pass trivially
      EXPECT_LT(r.max_abs_error, 1e-7) << name << (causal ? " causal" : "");
    }
  }
}

TEST(Mha, DropoutOnlyInTraining) {
  torch::manual_seed(0);
  auto mha = std::make_shared<MultiHeadAttention>(MhaOptions{8, 2, /*dropout=*/0.5});
  const auto x = torch::randn({2, 10, 8});
  mha->eval();
  const auto eval_a = run(*mha, x, {}, false).out;
  EXPECT_TRUE(torch::equal(eval_a, run(*mha, x, {}, false).out));
  EXPECT_LT(max_abs_diff(eval_a, mha_reference(x, {}, false, *mha)), 1e-5);
  mha->train();
  EXPECT_GT(max_abs_diff(run(*mha, x, {}, false).out, eval_a), 1e-4);
}

TEST(Mha, RejectsWidthNotDivisibleByHeads) {
  try {
    MultiHeadAttention mha(MhaOptions{10, 4});
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("d_model (10) must be divisible by heads (4)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Mha, RejectsBadCalls) {
  auto mha = make_mha(8, 2, torch::kFloat);
  ForwardContext ctx;
  const auto x = torch::randn({2, 5, 8});
  EXPECT_THROW(mha->forward({torch::randn({2, 5, 6}), {}, false}, ctx, "s"), c10::Error);
  EXPECT_THROW(mha->forward({x, torch::zeros({2, 5}), false}, ctx, "s"), c10::Error);  // not bool
  EXPECT_THROW(mha->forward({x, torch::zeros({2, 4}, torch::kBool), false}, ctx, "s"), c10::Error);
}

}  // namespace
}  // namespace attnlab::attention
