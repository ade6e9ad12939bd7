// The CUDA kernels (attention/kernels/) against their ATen references on a GPU, by the
// FlashAttention rule (DESIGN.md §7): the kernel's error against a float64 oracle may be at most
// twice the error of the ATen path run in the same precision, for the output and every gradient,
// on odd lengths (1, 113, 1023, 4097). Without a CUDA device these tests skip, and
// tools/gpu_check.sh runs them on a GPU machine; the algorithm itself is tested on every machine
// by ema_scan_emulation_test.cpp.
#include "attention/kernels/cuda_kernels.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/mega/ema.h"

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
        for (size_t i = 0; i < oracle.values.size(); ++i) {
          const auto& ref = oracle.values[i];
          const double floor = 1e-6 * ref.abs().max().item<double>() + 1e-12;
          const double err_kernel = max_error(kernel.values[i], ref);
          const double err_aten = max_error(aten.values[i], ref);
          EXPECT_LE(err_kernel, 2.0 * err_aten + floor)
              << names[i] << " T=" << t << " dtype=" << dtype << " bidirectional=" << bidirectional
              << " kernel " << err_kernel << " aten " << err_aten;
        }
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

}  // namespace
}  // namespace attnlab::attention
