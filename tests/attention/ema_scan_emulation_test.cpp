// The chunked-scan EMA algorithm of the CUDA kernels (attention/kernels/cuda/ema_scan.h), replayed
// in ATen, against the sequential oracle (ema_reference) and against autograd through a dense
// Toeplitz formulation: outputs, the carried state, and every gradient formula the kernels use.
#include "attention/kernels/ema_scan_emulation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "attention/mega/ema.h"

namespace attnlab::attention::kernels {
namespace {

struct Coefficients {
  torch::Tensor w, e, q;  // (R, h) float64
};

// The scan's per-row weights of a module, as MultiHeadEma hands them to the kernel. The module
// must hold float64 parameters (the oracle computes in float64 from them).
Coefficients coefficients_of(const MultiHeadEmaImpl& ema) {
  torch::NoGradGuard no_grad;
  EXPECT_EQ(ema.delta().scalar_type(), torch::kDouble);
  const auto [p, q] = ema.coefficients();
  const double scale = 1.0 / std::sqrt(static_cast<double>(ema.options().ema_dim));
  return {(p * ema.beta()).squeeze(-1).to(torch::kDouble), (ema.gamma() * scale).to(torch::kDouble),
          q.squeeze(-1).to(torch::kDouble)};
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(EmaScanEmulation, BidirectionalMatchesRecurrenceForEveryChunkSize) {
  torch::manual_seed(0);
  const int64_t d = 3, h = 4;
  MultiHeadEma ema(EmaOptions{d, h, /*bidirectional=*/true, 0});
  ema->to(torch::kDouble);
  const auto c = coefficients_of(*ema);
  for (int64_t t : {1, 2, 113}) {
    const auto x = torch::randn({2, t, d}, torch::kDouble);
    const auto oracle = ema_reference(x, {}, /*causal=*/false, *ema).y;
    for (int64_t chunk : {1, 7, 64, 200}) {
      const auto forward = ema_scan_emulated(x, c.w.narrow(0, 0, d), c.e.narrow(0, 0, d),
                                             c.q.narrow(0, 0, d), {}, chunk, false);
      const auto backward = ema_scan_emulated(x, c.w.narrow(0, d, d), c.e.narrow(0, d, d),
                                              c.q.narrow(0, d, d), {}, chunk, true);
      EXPECT_LT(max_diff(forward.y + backward.y, oracle), 1e-10) << "T=" << t << " C=" << chunk;
    }
  }
}

TEST(EmaScanEmulation, CarriedStateAndLastStateMatchRecurrence) {
  torch::manual_seed(1);
  const int64_t d = 2, h = 8, t = 50;
  MultiHeadEma ema(EmaOptions{d, h, /*bidirectional=*/false, 0});
  ema->to(torch::kDouble);
  const auto c = coefficients_of(*ema);
  const auto x = torch::randn({3, t, d}, torch::kDouble);
  const auto h0 = torch::randn({3, d, h}, torch::kDouble);
  const auto oracle = ema_reference(x, {}, /*causal=*/true, *ema, h0);
  for (int64_t chunk : {1, 16, 64}) {
    const auto scan = ema_scan_emulated(x, c.w, c.e, c.q, h0, chunk, false);
    EXPECT_LT(max_diff(scan.y, oracle.y), 1e-10) << "C=" << chunk;
    EXPECT_LT(max_diff(scan.last_state, oracle.last_state), 1e-10) << "C=" << chunk;
  }
}

// y = sum_{j<=t} K[t-j] x_j with K[l] = sum_n e_n w_n q_n^l, as a dense Toeplitz product in
// float64, differentiable in everything: the reference for the gradient formulas.
torch::Tensor dense_causal_ema(const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& e, const torch::Tensor& q, bool reverse) {
  const int64_t t = x.size(1);
  const auto lags = torch::arange(t, torch::kDouble);
  const auto kernel = torch::einsum(
      "dnl,dn->dl", {torch::exp(lags.view({1, 1, t}) * torch::log(q).unsqueeze(-1)), e * w});
  const auto i = torch::arange(t).view({t, 1}), j = torch::arange(t).view({1, t});
  const auto lag = reverse ? j - i : i - j;  // (T,T)
  const auto toeplitz = kernel
                            .index({torch::indexing::Slice(), lag.clamp_min(0)})  // (D,T,T)
                            .masked_fill((lag < 0).unsqueeze(0), 0.0);
  return torch::einsum("dij,bjd->bid", {toeplitz, x});  // (B,T,D)
}

TEST(EmaScanEmulation, GradientFormulasMatchAutograd) {
  torch::manual_seed(2);
  const int64_t d = 3, h = 4;
  MultiHeadEma ema(EmaOptions{d, h, /*bidirectional=*/false, 0});
  ema->to(torch::kDouble);
  const auto c = coefficients_of(*ema);
  for (bool reverse : {false, true}) {
    for (int64_t t : {1, 37, 130}) {
      auto x = torch::randn({2, t, d}, torch::kDouble).requires_grad_(true);
      auto w = c.w.clone().requires_grad_(true), e = c.e.clone().requires_grad_(true),
           q = c.q.clone().requires_grad_(true);
      const auto dy = torch::randn({2, t, d}, torch::kDouble);
      (dense_causal_ema(x, w, e, q, reverse) * dy).sum().backward();

      for (int64_t chunk : {1, 16, 64}) {
        const std::string at = "reverse=" + std::to_string(reverse) + " T=" + std::to_string(t) +
                               " C=" + std::to_string(chunk);
        // dx: the scan of dy in the opposite direction with the same weights.
        const auto dx = ema_scan_emulated(dy, c.w, c.e, c.q, {}, chunk, !reverse).y;
        EXPECT_LT(max_diff(dx, x.grad()), 1e-10) << at;
        const auto sums = ema_scan_grad_sums_emulated(x.detach(), dy, c.q, chunk, reverse);
        const auto grads = ema_parameter_grads(sums, c.w, c.e);
        EXPECT_LT(max_diff(grads.w, w.grad()), 1e-9) << at;
        EXPECT_LT(max_diff(grads.e, e.grad()), 1e-9) << at;
        EXPECT_LT(max_diff(grads.q, q.grad()), 1e-9) << at;
      }
    }
  }
}

// The Toeplitz reference itself agrees with the module's FFT path (so the gradient test above
// checks the formulas against the EMA the module computes, not against a look-alike).
TEST(EmaScanEmulation, DenseReferenceIsTheModulesEma) {
  torch::manual_seed(3);
  const int64_t d = 2, h = 2, t = 40;
  MultiHeadEma ema(EmaOptions{d, h, /*bidirectional=*/false, 0});
  ema->to(torch::kDouble);
  const auto c = coefficients_of(*ema);
  const auto x = torch::randn({2, t, d}, torch::kDouble);
  torch::NoGradGuard no_grad;
  EXPECT_LT(max_diff(dense_causal_ema(x, c.w, c.e, c.q, false),
                     ema->moving_average(x, {}, /*causal=*/true)),
            1e-10);
}

}  // namespace
}  // namespace attnlab::attention::kernels
