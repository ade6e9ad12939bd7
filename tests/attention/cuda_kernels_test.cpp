// The CUDA kernels (attention/kernels/) against their ATen references on a GPU, by the
// FlashAttention rule (DESIGN.md §7): the kernel's error against a float64 oracle may be at most
// twice the error of the ATen path run in the same precision, for the output and every gradient,
// on odd lengths (1, 113, 1023, 4097). Without a CUDA device these tests skip, and
// tools/gpu_check.sh runs them on a GPU machine; the algorithm itself is tested on every machine
// by ema_scan_emulation_test.cpp.
#include "attention/kernels/cuda_kernels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "attention/context.h"
#include "attention/mega/ema.h"
#include "attention/mha/mha.h"
#include "attention/moh/moh.h"

namespace attnlab::attention {
namespace {

#define SKIP_WITHOUT_CUDA()         \
  if (!torch::cuda::is_available()) \
  GTEST_SKIP() << "no CUDA device here: tools/gpu_check.sh runs the kernel tests on one"

TEST(CudaKernels, BuiltWhereverCudaIsAvailableAndNeverTakenOnCpu) {
  EXPECT_FALSE(kernels::ema_scan_applies(torch::zeros({1, 4, 2}), 16, false));
  SKIP_WITHOUT_CUDA();
  EXPECT_TRUE(kernels::cuda_kernels_built())
      << "a CUDA device is here but attnlab was built against a CPU LibTorch";
}

double max_error(const torch::Tensor& got, const torch::Tensor& oracle) {
  return (got.to(torch::kCPU, torch::kDouble) - oracle).abs().max().item<double>();
}

// FlashAttention's rule for each output i: the kernel's error against the float64 oracle is at
// most twice the ATen path's in the same precision (plus a floor of 1e-6 of the oracle's scale).
void expect_within_twice_aten(const std::vector<torch::Tensor>& kernel,
                              const std::vector<torch::Tensor>& aten,
                              const std::vector<torch::Tensor>& oracle, const char* const* names,
                              const std::string& where) {
  for (size_t i = 0; i < oracle.size(); ++i) {
    const double floor = 1e-6 * oracle[i].abs().max().item<double>() + 1e-12;
    const double err_kernel = max_error(kernel[i], oracle[i]);
    const double err_aten = max_error(aten[i], oracle[i]);
    EXPECT_LE(err_kernel, 2.0 * err_aten + floor)
        << names[i] << where << " kernel " << err_kernel << " aten " << err_aten;
  }
}

// The EMA output and the gradients of sum(y * g) with respect to x and every parameter.
struct EmaRun {
  std::vector<torch::Tensor> values;  // y, dx, d delta, d alpha, d beta, d gamma
};

EmaRun run_ema(MultiHeadEma& ema, const torch::Tensor& x_in, const torch::Tensor& g, bool causal) {
  for (auto& p : ema->parameters()) p.mutable_grad() = torch::Tensor();
  auto x = x_in.detach().clone().requires_grad_(true);
  const auto y = ema->moving_average(x, {}, causal);
  (y.to(torch::kDouble) * g.to(y.device(), torch::kDouble)).sum().backward();
  return {{y.detach(), x.grad(), ema->delta().grad(), ema->alpha().grad(), ema->beta().grad(),
           ema->gamma().grad()}};
}

MultiHeadEma seeded_ema(int64_t d, int64_t h, bool bidirectional) {
  torch::manual_seed(11);
  return MultiHeadEma(EmaOptions{d, h, bidirectional, 0});
}

TEST(CudaEmaScan, WithinTwiceTheAtenPathErrorForOutputAndEveryGradient) {
  SKIP_WITHOUT_CUDA();
  const int64_t b = 2, d = 16, h = 16;
  const char* names[] = {"y", "dx", "d_delta", "d_alpha", "d_beta", "d_gamma"};
  for (const bool bidirectional : {true, false}) {
    auto oracle_ema = seeded_ema(d, h, bidirectional);
    oracle_ema->to(torch::kDouble);
    auto gpu_ema = seeded_ema(d, h, bidirectional);
    gpu_ema->to(torch::kCUDA);
    for (const auto dtype : {torch::kFloat, torch::kBFloat16}) {
      for (const int64_t t : {1, 113, 1023, 4097}) {
        torch::manual_seed(t);
        // The oracle sees exactly the rounded input the kernel sees.
        const auto x = torch::randn({b, t, d}).to(dtype);
        const auto g = torch::randn({b, t, d}, torch::kDouble);
        const bool causal = !bidirectional;
        const auto oracle = run_ema(oracle_ema, x.to(torch::kDouble), g, causal);
        const auto kernel = run_ema(gpu_ema, x.to(torch::kCUDA), g, causal);
        EmaRun aten;
        {
          const kernels::CudaKernelsDisabled off;
          aten = run_ema(gpu_ema, x.to(torch::kCUDA), g, causal);
        }
        std::ostringstream where;
        where << " T=" << t << " dtype=" << dtype << " bidirectional=" << bidirectional;
        expect_within_twice_aten(kernel.values, aten.values, oracle.values, names, where.str());
      }
    }
  }
}

TEST(CudaEmaScan, StreamingMatchesTheAtenStream) {
  SKIP_WITHOUT_CUDA();
  const int64_t b = 3, d = 8, h = 16, t = 300;
  auto ema = seeded_ema(d, h, false);
  ema->to(torch::kCUDA);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({b, t, d}, torch::kCUDA);
  const auto h0 = torch::randn({b, d, h}, torch::kCUDA);
  const auto kernel = ema->moving_average_stream(x, {}, EmaState{h0});
  EmaStreamOutput aten;
  {
    const kernels::CudaKernelsDisabled off;
    aten = ema->moving_average_stream(x, {}, EmaState{h0});
  }
  EXPECT_LT((kernel.out - aten.out).abs().max().item<double>(), 1e-4);
  EXPECT_LT((kernel.state.hidden - aten.state.hidden).abs().max().item<double>(), 1e-4);
}

// Softmax attention with a perturbation, padding and the row entropy: q, k, v and the
// perturbation as leaves; returns out, entropy and the gradients of sum(out g) + sum(entropy g_h).
struct TapRun {
  std::vector<torch::Tensor> values;  // out, entropy, dq, dk, dv, dP
};

TapRun run_tap(const std::vector<torch::Tensor>& inputs, const torch::Tensor& pad, bool causal,
               const torch::Tensor& g_out, const torch::Tensor& g_entropy, bool kernel) {
  std::vector<torch::Tensor> leaves;
  for (const auto& t : inputs) leaves.push_back(t.detach().clone().requires_grad_(true));
  const auto &q = leaves[0], &k = leaves[1], &v = leaves[2], &p = leaves[3];
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(3)));
  torch::Tensor out, entropy;
  if (kernel) {
    auto r = kernels::tap_attention(q, k, v, p, pad, causal, scale);
    out = r.out;
    entropy = r.entropy;
  } else {  // the ATen path: mha's masking and softmax; entropy = lse - sum_j p_j s_j
    const auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale + p.to(q.scalar_type());
    const auto masked =
        attention_key_mask(pad, causal, q.size(2), k.size(2), q.device()).expand(scores.sizes());
    const auto weights = masked_softmax(scores, masked);
    out = torch::matmul(weights, v);
    const auto dead = masked.all(-1);
    const auto lse = torch::logsumexp(
        scores.masked_fill(masked & dead.unsqueeze(-1).logical_not(), -INFINITY), -1);
    entropy = torch::where(dead, torch::zeros_like(lse),
                           lse - (weights * scores.masked_fill(masked, 0.0)).sum(-1));
  }
  ((out.to(torch::kDouble) * g_out).sum() + (entropy.to(torch::kDouble) * g_entropy).sum())
      .backward();
  return {{out.detach(), entropy.detach(), q.grad(), k.grad(), v.grad(), p.grad()}};
}

TEST(CudaTapAttention, WithinTwiceTheAtenPathErrorForOutputEntropyAndEveryGradient) {
  SKIP_WITHOUT_CUDA();
  const char* names[] = {"out", "entropy", "dq", "dk", "dv", "d_perturbation"};
  const int64_t b = 2, h = 3, d = 64;
  for (const bool causal : {false, true}) {
    for (const auto dtype : {torch::kFloat, torch::kBFloat16}) {
      for (const int64_t t : {1, 113, 1023}) {
        torch::manual_seed(t);
        std::vector<torch::Tensor> inputs = {
            torch::randn({b, h, t, d}).to(dtype), torch::randn({b, h, t, d}).to(dtype),
            torch::randn({b, h, t, d}).to(dtype), torch::randn({b, h, t, t}) * 0.1};
        auto pad = torch::zeros({b, t}, torch::kBool);
        pad[1].narrow(0, t - t / 3 - 1, t / 3 + 1).fill_(true);  // example 1 ends in padding
        const auto g_out = torch::randn({b, h, t, d}, torch::kDouble);
        const auto g_entropy = torch::randn({b, h, t}, torch::kDouble);
        std::vector<torch::Tensor> in64, in_gpu;
        for (const auto& x : inputs) {
          in64.push_back(x.to(torch::kDouble));
          in_gpu.push_back(x.to(torch::kCUDA));
        }
        const auto oracle = run_tap(in64, pad, causal, g_out, g_entropy, false);
        const auto kernel = run_tap(in_gpu, pad.to(torch::kCUDA), causal, g_out.to(torch::kCUDA),
                                    g_entropy.to(torch::kCUDA), true);
        const auto aten = run_tap(in_gpu, pad.to(torch::kCUDA), causal, g_out.to(torch::kCUDA),
                                  g_entropy.to(torch::kCUDA), false);
        std::ostringstream where;
        where << " T=" << t << " dtype=" << dtype << " causal=" << causal;
        expect_within_twice_aten(kernel.values, aten.values, oracle.values, names, where.str());
      }
    }
  }
}

// MoH's skip path with the head-sparse kernel equals its dense ATen path (kernels off), forward
// and backward, for a random routing at 50% and 75% of the heads.
TEST(CudaTapAttention, MohHeadSparseMatchesDenseAten) {
  SKIP_WITHOUT_CUDA();
  for (const int64_t topk : {2, 4}) {  // 2 shared + 2 or 4 of 6 routed heads of 8: 50%, 75%
    torch::manual_seed(topk);
    MohOptions o;
    o.d_model = 64;
    o.heads = 8;
    o.shared_heads = 2;
    o.routed_topk = topk;
    o.skip_unselected = true;
    auto moh = std::make_shared<MixtureOfHeadsAttention>(o);
    moh->to(torch::kCUDA);
    const auto x = torch::randn({2, 257, 64}, torch::kCUDA);
    auto pad =
        torch::zeros({2, 257}, torch::TensorOptions().dtype(torch::kBool).device(torch::kCUDA));
    pad[1].narrow(0, 200, 57).fill_(true);
    const auto run = [&](bool kernels_on) {
      std::optional<kernels::CudaKernelsDisabled> off;
      if (!kernels_on) off.emplace();
      moh->zero_grad();
      ForwardContext ctx;
      auto xi = x.clone().requires_grad_(true);
      const auto y = moh->forward(AttentionCall{xi, pad, false}, ctx, "layer0").out;
      y.sum().backward();
      return std::make_pair(y.detach(), xi.grad());
    };
    const auto [y_kernel, dx_kernel] = run(true);
    const auto [y_aten, dx_aten] = run(false);
    EXPECT_LT((y_kernel - y_aten).abs().max().item<double>(), 1e-4) << "topk " << topk;
    EXPECT_LT((dx_kernel - dx_aten).abs().max().item<double>(), 1e-4) << "topk " << topk;
  }
}

// What the entropy regularizer reads: the row entropies the fused path reports equal those the
// ATen path takes from the weights (kernels off), and so do the rows that have keys.
TEST(CudaTapAttention, RowEntropiesOfTheFusedPathMatchTheAtenPath) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(5);
  MhaOptions o;
  o.d_model = 64;
  o.heads = 4;
  auto mha = std::make_shared<MultiHeadAttention>(o);
  mha->to(torch::kCUDA);
  const auto x = torch::randn({2, 77, 64}, torch::kCUDA);
  auto pad = torch::zeros({2, 77}, torch::TensorOptions().dtype(torch::kBool).device(torch::kCUDA));
  pad[1].narrow(0, 50, 27).fill_(true);
  const auto run = [&](bool kernels_on) {
    std::optional<kernels::CudaKernelsDisabled> off;
    if (!kernels_on) off.emplace();
    ForwardContext ctx;
    ctx.set_record_row_entropy(true);
    mha->forward(AttentionCall{x, pad, true}, ctx, "layer0");
    return std::make_pair(ctx.row_entropies().at("layer0").to(torch::kFloat),
                          ctx.row_has_keys().at("layer0"));
  };
  const auto [h_kernel, keys_kernel] = run(true);
  const auto [h_aten, keys_aten] = run(false);
  EXPECT_LT((h_kernel - h_aten).abs().max().item<double>(), 1e-4);
  EXPECT_TRUE(torch::equal(keys_kernel, keys_aten));
}

}  // namespace
}  // namespace attnlab::attention
