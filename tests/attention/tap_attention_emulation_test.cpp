// The fused tap attention algorithm of the CUDA kernels (attention/kernels/cuda/tap_attention.h),
// replayed in ATen, against plain masked softmax attention (mha's attention_key_mask and
// masked_softmax) with the row entropy, differentiated by autograd: outputs, entropies and the
// gradients of q, k, v and the score perturbation, for padded keys, causal masks, fully masked
// rows, odd lengths, and MoH's head-sparse rows.
#include "attention/kernels/tap_attention_emulation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "attention/mha/mha.h"

namespace attnlab::attention::kernels {
namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return a.numel() == 0 ? 0.0 : (a - b).abs().max().item<double>();
}

struct Reference {
  torch::Tensor out, entropy;  // per row slot, zero for padding slots
  TapAttentionGrads grads;
};

// Attention as mha computes it, entropy = lse - sum_j p_j s_j over the allowed keys, then the
// rows of `args` (all, or MoH's slots), and the gradients of sum(out g) + sum(entropy g_h).
Reference reference(const TapAttentionArgs& args, const torch::Tensor& g_out,
                    const torch::Tensor& g_entropy) {
  auto q = args.q.clone().requires_grad_(true), k = args.k.clone().requires_grad_(true),
       v = args.v.clone().requires_grad_(true);
  torch::Tensor p;
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * args.scale;
  if (args.perturbation.defined()) {
    p = args.perturbation.clone().requires_grad_(true);
    scores = scores + p;
  }
  const int64_t tq = q.size(2), tk = k.size(2);
  auto masked = attention_key_mask(args.key_padding, args.causal, tq, tk, q.device());
  if (!masked.defined()) masked = torch::zeros({1, 1, tq, tk}, torch::kBool);
  masked = masked.expand(scores.sizes());
  const auto weights = masked_softmax(scores, masked);
  const auto dead = masked.all(-1);  // (B,H,Tq)
  const auto lse = torch::logsumexp(scores.masked_fill(masked & dead.unsqueeze(-1).logical_not(),
                                                       -std::numeric_limits<double>::infinity()),
                                    -1);
  const auto entropy = torch::where(dead, torch::zeros_like(lse),
                                    lse - (weights * scores.masked_fill(masked, 0.0)).sum(-1));
  auto out = torch::matmul(weights, v);  // (B,H,Tq,d)
  auto ent = entropy;
  if (args.rows.defined()) {
    const int64_t n = args.rows.size(2);
    const auto active = torch::arange(n).view({1, 1, n}) < args.row_count.unsqueeze(-1);
    out = out.gather(2, args.rows.unsqueeze(-1).expand({-1, -1, -1, out.size(3)})) *
          active.unsqueeze(-1);
    ent = ent.gather(2, args.rows) * active;
  }
  ((out * g_out).sum() + (ent * g_entropy).sum()).backward();
  return {out.detach(), ent.detach(), {q.grad(), k.grad(), v.grad(), p.defined() ? p.grad() : p}};
}

void expect_matches(const TapAttentionArgs& args, const std::string& what) {
  const auto emulated = tap_attention_emulated(args);
  const auto g_out = torch::randn(emulated.out.sizes(), torch::kDouble);
  const auto g_entropy = torch::randn(emulated.entropy.sizes(), torch::kDouble);
  const auto ref = reference(args, g_out, g_entropy);
  EXPECT_LT(max_diff(emulated.out, ref.out), 1e-12) << what;
  EXPECT_LT(max_diff(emulated.entropy, ref.entropy), 1e-12) << what;
  const auto grads = tap_attention_backward_emulated(args, emulated, g_out, g_entropy);
  EXPECT_LT(max_diff(grads.q, ref.grads.q), 1e-11) << what;
  EXPECT_LT(max_diff(grads.k, ref.grads.k), 1e-11) << what;
  EXPECT_LT(max_diff(grads.v, ref.grads.v), 1e-11) << what;
  if (args.perturbation.defined()) {
    EXPECT_LT(max_diff(grads.perturbation, ref.grads.perturbation), 1e-11) << what;
  }
}

TapAttentionArgs random_args(int64_t b, int64_t h, int64_t t, int64_t d, bool causal) {
  TapAttentionArgs a;
  a.q = torch::randn({b, h, t, d}, torch::kDouble);
  a.k = torch::randn({b, h, t, d}, torch::kDouble);
  a.v = torch::randn({b, h, t, d}, torch::kDouble);
  a.causal = causal;
  a.scale = 1.0 / std::sqrt(static_cast<double>(d));
  return a;
}

TEST(TapAttentionEmulation, DenseRowsMatchMaskedSoftmaxAttentionAndAutograd) {
  torch::manual_seed(0);
  for (const bool causal : {false, true}) {
    for (const int64_t t : {1, 2, 13}) {
      auto a = random_args(2, 3, t, 5, causal);
      expect_matches(a, "plain t=" + std::to_string(t) + " causal=" + std::to_string(causal));
      a.perturbation = torch::randn({2, 3, t, t}, torch::kDouble);
      a.key_padding = torch::zeros({2, t}, torch::kBool);
      a.key_padding[1][t - 1] = true;  // the last key of example 1 is padding
      expect_matches(
          a, "perturbed, padded t=" + std::to_string(t) + " causal=" + std::to_string(causal));
    }
  }
}

TEST(TapAttentionEmulation, FullyMaskedRowsGiveZerosAndNoGradient) {
  torch::manual_seed(1);
  auto a = random_args(2, 2, 6, 4, /*causal=*/false);
  a.key_padding = torch::zeros({2, 6}, torch::kBool);
  a.key_padding[0].fill_(true);  // every key of example 0 is padding: every row is dead
  const auto result = tap_attention_emulated(a);
  EXPECT_EQ(result.out[0].abs().max().item<double>(), 0.0);
  EXPECT_EQ(result.entropy[0].abs().max().item<double>(), 0.0);
  EXPECT_TRUE(torch::isinf(result.lse[0]).all().item<bool>());
  expect_matches(a, "example 0 dead");
  // Causal and the first key padded: row 0 sees no key, the other rows do.
  auto c = random_args(1, 2, 5, 4, /*causal=*/true);
  c.key_padding = torch::zeros({1, 5}, torch::kBool);
  c.key_padding[0][0] = true;
  expect_matches(c, "causal, first key padded");
}

TEST(TapAttentionEmulation, HeadSparseRowsMatchTheSameRowsOfDenseAttention) {
  torch::manual_seed(2);
  for (const bool causal : {false, true}) {
    auto a = random_args(2, 3, 9, 4, causal);
    // Each (example, head) lists its selected query positions first; the rest are padding slots
    // (real positions, computed as zeros, as MoH's skip path lays them out).
    a.rows = torch::stack({torch::randperm(9, torch::kLong), torch::randperm(9, torch::kLong),
                           torch::randperm(9, torch::kLong), torch::randperm(9, torch::kLong),
                           torch::randperm(9, torch::kLong), torch::randperm(9, torch::kLong)})
                 .view({2, 3, 9})
                 .narrow(2, 0, 6);
    a.row_count = torch::tensor({6, 3, 0, 1, 5, 2}, torch::kLong).view({2, 3});
    a.key_padding = torch::zeros({2, 9}, torch::kBool);
    a.key_padding[0][4] = true;
    expect_matches(a, "sparse causal=" + std::to_string(causal));
    const auto result = tap_attention_emulated(a);
    EXPECT_EQ(result.out[1][0].narrow(0, 1, 5).abs().max().item<double>(), 0.0)
        << "padding slots are zeros";
  }
}

}  // namespace
}  // namespace attnlab::attention::kernels
