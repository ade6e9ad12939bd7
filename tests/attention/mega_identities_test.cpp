// Mega identities of moh_mega.md §5 that the other Mega tests cover only in part, in float64:
// - §5.8 at the notes' lengths L in {1, 7, 64, 1000} and with the ListOps recipe's truncation
//   (1024 taps) at L > 1024, against the loop recurrence (ema_reference);
// - §5.9 against a separate unidirectional module (the older test compares a bidirectional module
//   with its own causal path): zero backward eta == bidirectional = false, for the EMA and for the
//   whole sub-layer;
// - §5.12 appended padding with a truncated EMA, each example alone vs the padded batch;
// - §5.16 laplace against the erf formula written out here, and phi = 0 under post-norm
//   (Y = Norm(X)), the placement the ListOps recipes use.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "attention/mega/ema.h"
#include "attention/mega/mega_attention.h"
#include "attention/mega_test_util.h"

namespace attnlab::attention {
namespace {

using testing::mega_max_diff;

MultiHeadEma make_ema(int64_t d, int64_t h, bool bidirectional, int64_t truncation, uint64_t seed) {
  torch::manual_seed(seed);
  MultiHeadEma ema(EmaOptions{d, h, bidirectional, truncation});
  ema->to(torch::kDouble);
  return ema;
}

// Copies every parameter of `bi` (bidirectional) into `uni` (unidirectional); the EMA's
// (2D, ...) tensors give their forward rows [0, D).
void copy_forward_half(torch::nn::Module& bi, torch::nn::Module& uni) {
  torch::NoGradGuard no_grad;
  auto from = bi.named_parameters();
  for (auto& item : uni.named_parameters()) {
    const auto& s = from[item.key()];
    item.value().copy_(s.sizes() == item.value().sizes() ? s : s.narrow(0, 0, item.value().size(0)));
  }
}

void zero_backward_eta(MultiHeadEmaImpl& ema) {
  torch::NoGradGuard no_grad;
  const int64_t d = ema.options().d_model;
  ema.gamma().narrow(0, d, d).zero_();  // gamma (2D, h): rows [D, 2D) project the backward states
}

TEST(MegaIdentities, FftMatchesRecurrenceAtTheNotesLengths) {
  for (const bool bidirectional : {false, true}) {
    auto ema = make_ema(3, 4, bidirectional, 0, 3);
    for (const int64_t t : {1, 7, 64, 1000}) {
      const auto x = torch::randn({2, t, 3}, torch::kDouble);
      for (const bool causal : {false, true}) {
        EXPECT_LT(mega_max_diff(ema->moving_average(x, {}, causal), ema_reference(x, {}, causal, *ema).y), 1e-10)
            << "T=" << t << " bidirectional=" << bidirectional << " causal=" << causal;
      }
    }
  }
  // The ListOps recipe's EMA: 1024 taps, sequences up to 2000 tokens (an FIR once T > 1024).
  auto truncated = make_ema(2, 3, true, 1024, 4);
  const auto x = torch::randn({1, 1100, 2}, torch::kDouble);
  EXPECT_EQ(truncated->kernel(1100).size(1), 1024);
  EXPECT_LT(mega_max_diff(truncated->moving_average(x, {}, false), ema_reference(x, {}, false, *truncated).y), 1e-10);
}

TEST(MegaIdentities, ZeroBackwardEtaEqualsAUnidirectionalEma) {
  for (const int64_t truncation : {0, 5}) {
    auto bi = make_ema(3, 4, true, truncation, 5);
    auto uni = make_ema(3, 4, false, truncation, 6);
    copy_forward_half(*bi, *uni);
    const auto x = torch::randn({2, 11, 3}, torch::kDouble);
    auto mask = torch::zeros({2, 11}, torch::kBool);
    mask[1].narrow(0, 8, 3).fill_(true);
    // Teeth: with its backward half the bidirectional EMA is another function.
    EXPECT_GT(mega_max_diff(bi->moving_average(x, mask, false), uni->moving_average(x, mask, false)), 1e-3);
    zero_backward_eta(*bi);
    const auto y = bi->moving_average(x, mask, false);
    EXPECT_LT(mega_max_diff(y, uni->moving_average(x, mask, false)), 1e-12) << truncation;
    EXPECT_LT(mega_max_diff(y, ema_reference(x, mask, true, *uni).y), 1e-11) << truncation;
    EXPECT_LT(mega_max_diff(bi->forward(x, mask, false), uni->forward(x, mask, false)), 1e-12) << truncation;
  }
}

MegaOptions small_options(bool bidirectional, const std::string& fn, int64_t chunk, int64_t truncation = 0) {
  MegaOptions o;
  o.d_model = 6;
  o.z_dim = 4;
  o.v_dim = 5;
  o.ema_dim = 3;
  o.bidirectional = bidirectional;
  o.truncation = truncation;
  o.attention_fn = fn;
  o.max_positions = 32;
  o.chunk_size = chunk;
  return o;
}

std::shared_ptr<MegaAttention> make_mega(const MegaOptions& o, uint64_t seed) {
  torch::manual_seed(seed);
  auto m = std::make_shared<MegaAttention>(o);
  testing::mega_randomize(*m);
  m->to(torch::kDouble);
  m->eval();
  return m;
}

torch::Tensor run(MegaAttention& m, const torch::Tensor& x, const torch::Tensor& mask = {}, bool causal = false) {
  ForwardContext ctx;
  return m.forward(AttentionCall{x, mask, causal}, ctx, "mega").out;
}

TEST(MegaIdentities, SubLayerWithZeroBackwardEtaEqualsTheUnidirectionalSubLayer) {
  for (const std::string fn : {"softmax", "laplace"}) {
    for (const int64_t chunk : {-1, 4}) {
      auto bi = make_mega(small_options(true, fn, chunk), 7);
      auto uni = make_mega(small_options(false, fn, chunk), 8);
      copy_forward_half(*bi, *uni);
      const auto x = torch::randn({2, 9, 6}, torch::kDouble);
      EXPECT_GT(mega_max_diff(run(*bi, x), run(*uni, x)), 1e-4) << fn << chunk;
      zero_backward_eta(*bi->ema());
      EXPECT_LT(mega_max_diff(run(*bi, x), run(*uni, x)), 1e-12) << fn << " chunk=" << chunk;
    }
  }
}

TEST(MegaIdentities, AppendedPaddingWithATruncatedEmaChangesNothing) {
  const std::vector<int64_t> lengths = {9, 5, 1};
  const int64_t t = 12;
  for (const int64_t truncation : {3, 7}) {  // shorter than some examples, and between lengths
    for (const int64_t chunk : {-1, 4}) {
      auto m = make_mega(small_options(true, "softmax", chunk, truncation), 9);
      auto mask = torch::zeros({3, t}, torch::kBool);
      for (int64_t e = 0; e < 3; ++e) mask[e].narrow(0, lengths[e], t - lengths[e]).fill_(true);
      const auto x = torch::where(mask.unsqueeze(-1), 20.0 * torch::randn({3, t, 6}, torch::kDouble),
                                  torch::randn({3, t, 6}, torch::kDouble));
      const auto batch = run(*m, x, mask);
      for (int64_t e = 0; e < 3; ++e) {
        const auto alone = run(*m, x[e].narrow(0, 0, lengths[e]).unsqueeze(0));
        EXPECT_LT(mega_max_diff(batch[e].narrow(0, 0, lengths[e]), alone[0]), 1e-12)
            << "truncation=" << truncation << " chunk=" << chunk << " example " << e;
      }
    }
  }
}

TEST(MegaIdentities, LaplaceIsTheErfFormula) {
  const double pi = std::acos(-1.0);
  const double mu = std::sqrt(0.5), sigma = std::sqrt(1.0 / (4.0 * pi));
  const std::vector<double> points = {-3.0, -0.5, 0.0, 0.3, mu, 1.0, 1.7, 4.0};
  const auto f = mega_laplace(torch::tensor(points, torch::kDouble));
  for (size_t i = 0; i < points.size(); ++i) {
    const double expected = 0.5 * (1.0 + std::erf((points[i] - mu) / (sigma * std::sqrt(2.0))));
    EXPECT_NEAR(f[static_cast<int64_t>(i)].item<double>(), expected, 1e-15) << points[i];
  }
  // Symmetric about mu: f(mu + s) + f(mu - s) = 1.
  const auto s = torch::linspace(0.0, 1.0, 11, torch::kDouble);
  EXPECT_LT((mega_laplace(mu + s) + mega_laplace(mu - s) - 1.0).abs().max().item<double>(), 1e-15);
}

TEST(MegaIdentities, ClosedUpdateGateUnderPostNormGivesNormOfX) {
  auto o = small_options(true, "softmax", -1);
  o.prenorm = false;
  auto m = make_mega(o, 10);
  {
    torch::NoGradGuard no_grad;
    m->mx_proj()->bias.narrow(0, 0, 6).fill_(-1e4);  // u -> -inf, phi = 0
  }
  const auto x = torch::randn({2, 5, 6}, torch::kDouble);
  const auto params = m->named_parameters();
  const auto expected = torch::layer_norm(x, {6}, params["norm.weight"], params["norm.bias"], 1e-5);
  EXPECT_LT(mega_max_diff(run(*m, x), expected), 1e-12);
  // And an open gate does not (the sub-layer is not the identity by accident).
  {
    torch::NoGradGuard no_grad;
    m->mx_proj()->bias.narrow(0, 0, 6).zero_();
  }
  EXPECT_GT(mega_max_diff(run(*m, x), expected), 1e-3);
}

}  // namespace
}  // namespace attnlab::attention
