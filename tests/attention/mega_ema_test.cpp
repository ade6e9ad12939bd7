// Mega's EMA (attention/mega/ema.h) against the sequential recurrence (notes §5, identities 8-11):
// FFT == recurrence in float64 (causal and bidirectional), backward half zero == unidirectional,
// truncation, streaming in pieces == one causal pass (including the final state, with B > 1 and a
// non-zero carried state), padding zeroed, and gradients by central differences.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attention/gradcheck.h"
#include "attention/mega/ema.h"

namespace attnlab::attention {
namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble))
      .abs()
      .max()
      .item<double>();
}

MultiHeadEma make_ema(int64_t d, int64_t h, bool bidirectional, int64_t truncation = 0) {
  torch::manual_seed(7);
  MultiHeadEma ema(EmaOptions{d, h, bidirectional, truncation});
  ema->to(torch::kDouble);
  return ema;
}

TEST(MegaEma, FftMatchesRecurrenceCausalAndBidirectional) {
  for (const bool bidirectional : {false, true}) {
    auto ema = make_ema(3, 4, bidirectional);
    for (const int64_t t : {1, 2, 7, 33, 100}) {
      const auto x = torch::randn({2, t, 3}, torch::kDouble);
      for (const bool causal : {false, true}) {
        const auto fft = ema->moving_average(x, {}, causal);
        const auto ref = ema_reference(x, {}, causal, *ema).y;
        EXPECT_LT(max_diff(fft, ref), 1e-11)
            << "T=" << t << " bidirectional=" << bidirectional << " causal=" << causal;
      }
    }
  }
}

TEST(MegaEma, Float32AgreesWithReference) {
  auto ema = make_ema(3, 4, true);
  const auto x = torch::randn({2, 33, 3}, torch::kDouble);
  const auto ref = ema_reference(x, {}, false, *ema).y;
  ema->to(torch::kFloat);
  const auto y = ema->moving_average(x.to(torch::kFloat), {}, false);
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  EXPECT_LT(max_diff(y, ref), 1e-4);
}

TEST(MegaEma, BidirectionalCountsCurrentTokenTwiceAndZeroBackwardIsUnidirectional) {
  auto ema = make_ema(2, 3, true);
  const auto x = torch::randn({1, 9, 2}, torch::kDouble);
  // y = K1 * x (causal) + K2 applied backwards; with the backward projection zeroed the
  // bidirectional output equals the causal one.
  {
    torch::NoGradGuard no_grad;
    ema->gamma().narrow(0, 2, 2).zero_();
  }
  EXPECT_LT(max_diff(ema->moving_average(x, {}, false), ema->moving_average(x, {}, true)), 1e-12);
  // A unit impulse at t: both kernels start at index 0 there, so y_t = K1[0] + K2[0].
  const auto k = ema->kernel(9);
  auto impulse = torch::zeros({1, 9, 2}, torch::kDouble);
  impulse[0][4][0] = 1.0;
  {
    torch::NoGradGuard no_grad;
    ema->gamma().normal_();
  }
  const auto k2 = ema->kernel(9);
  const auto y = ema->moving_average(impulse, {}, false);
  EXPECT_NEAR(y[0][4][0].item<double>(), (k2[0][0] + k2[2][0]).item<double>(), 1e-12);
  EXPECT_NEAR(y[0][6][0].item<double>(), k2[0][2].item<double>(), 1e-12);  // forward, lag 2
  EXPECT_NEAR(y[0][1][0].item<double>(), k2[2][3].item<double>(), 1e-12);  // backward, lag 3
  EXPECT_EQ(k.sizes(), (torch::IntArrayRef{4, 9}));
}

TEST(MegaEma, TruncationZeroesKernelTailAndMatchesTruncatedRecurrence) {
  auto full = make_ema(3, 2, true);
  auto cut = make_ema(3, 2, true, /*truncation=*/5);  // same seed: same parameters
  EXPECT_EQ(cut->kernel(20).size(1), 5);
  EXPECT_EQ(cut->kernel(3).size(1), 3);
  // The truncated kernel is the full kernel's first 5 taps (zero beyond).
  EXPECT_LT(max_diff(cut->kernel(20), full->kernel(20).narrow(1, 0, 5)), 1e-15);
  for (const bool causal : {false, true}) {
    const auto x = torch::randn({2, 17, 3}, torch::kDouble);
    const auto y = cut->moving_average(x, {}, causal);
    EXPECT_LT(max_diff(y, ema_reference(x, {}, causal, *cut).y), 1e-11) << causal;
    EXPECT_GT(max_diff(y, full->moving_average(x, {}, causal)), 1e-6) << causal;
    // Truncation >= L is no truncation.
    const auto short_x = x.narrow(1, 0, 5);
    EXPECT_LT(max_diff(cut->moving_average(short_x, {}, causal),
                       full->moving_average(short_x, {}, causal)),
              1e-12);
  }
}

TEST(MegaEma, StreamingInPiecesEqualsOneCausalPass) {
  auto ema = make_ema(3, 4, true);
  const auto x = torch::randn({2, 23, 3}, torch::kDouble);
  const auto whole = ema->forward(x, {}, /*causal=*/true);
  const auto ref = ema_reference(x, {}, true, *ema);
  EmaState state;
  std::vector<torch::Tensor> pieces;
  int64_t start = 0;
  for (const int64_t len : {1, 5, 2, 8, 7}) {
    auto step = ema->forward_stream(x.narrow(1, start, len), {}, state);
    pieces.push_back(step.out);
    state = step.state;
    start += len;
  }
  ASSERT_EQ(start, 23);
  EXPECT_LT(max_diff(torch::cat(pieces, 1), whole), 1e-11);
  // Final state == sum_j p beta q^{L-1-j} x_j of the recurrence.
  EXPECT_LT(max_diff(state.hidden, ref.last_state), 1e-11);
}

TEST(MegaEma, StreamingWithCarriedStateMatchesRecurrenceFromThatState) {
  // B > 1 with a non-zero, batch-dependent h0 (the Megalodon cff8ba5 regression shape).
  auto ema = make_ema(2, 3, false);
  const auto x = torch::randn({3, 6, 2}, torch::kDouble);
  const auto h0 = torch::randn({3, 2, 3}, torch::kDouble);
  const auto ref = ema_reference(x, {}, true, *ema, h0);
  const auto out = ema->moving_average_stream(x, {}, EmaState{h0});
  EXPECT_LT(max_diff(out.out, ref.y), 1e-12);
  EXPECT_LT(max_diff(out.state.hidden, ref.last_state), 1e-12);
  // Gradient flows into the carried state, per batch row.
  auto h0_leaf = h0.clone().requires_grad_(true);
  const auto r = testing::gradcheck(
      [&] { return ema->moving_average_stream(x, {}, EmaState{h0_leaf}).out.pow(2).sum(); },
      h0_leaf);
  EXPECT_LT(r.max_abs_error, 1e-7 * std::max(1.0, r.max_abs_grad));
}

TEST(MegaEma, StreamingRejectsTruncation) {
  auto ema = make_ema(2, 2, false, 4);
  try {
    ema->moving_average_stream(torch::randn({1, 3, 2}, torch::kDouble), {}, EmaState{});
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("streaming needs truncation = 0"), std::string::npos);
  }
}

TEST(MegaEma, PaddedInputsAreZeroedBeforeTheConvolution) {
  auto ema = make_ema(3, 2, true);
  auto x = torch::randn({2, 8, 3}, torch::kDouble);
  auto mask = torch::zeros({2, 8}, torch::kBool);
  mask[0].narrow(0, 5, 3).fill_(true);
  mask[1][2] = true;  // a hole in the middle too
  const auto y = ema->moving_average(x, mask, false);
  EXPECT_LT(max_diff(y, ema_reference(x, mask, false, *ema).y), 1e-12);
  auto x2 = x.clone();
  x2.masked_fill_(mask.unsqueeze(-1), 1e3);
  EXPECT_LT(max_diff(ema->moving_average(x2, mask, false), y), 1e-12);
}

TEST(MegaEma, GradientsMatchFiniteDifferences) {
  auto ema = make_ema(2, 2, true, 0);
  const auto x = torch::randn({2, 5, 2}, torch::kDouble).requires_grad_(true);
  const auto loss = [&] {
    return (ema->forward(x, {}, false) * torch::arange(20, torch::kDouble).view({2, 5, 2})).sum();
  };
  for (const auto& param : ema->parameters()) {
    const auto r = testing::gradcheck(loss, param);
    EXPECT_LT(r.max_abs_error, 1e-6 * std::max(1.0, r.max_abs_grad));
  }
  const auto r = testing::gradcheck(loss, x);
  EXPECT_LT(r.max_abs_error, 1e-6 * std::max(1.0, r.max_abs_grad));
}

TEST(MegaEma, InvalidOptions) {
  EXPECT_THROW(MultiHeadEma(EmaOptions{0, 2, true, 0}), c10::Error);
  EXPECT_THROW(MultiHeadEma(EmaOptions{4, 0, true, 0}), c10::Error);
  EXPECT_THROW(MultiHeadEma(EmaOptions{4, 2, true, -1}), c10::Error);
}

}  // namespace
}  // namespace attnlab::attention
