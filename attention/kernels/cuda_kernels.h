// The device dispatch of the custom CUDA kernels (DESIGN.md §7): what a module calls to use a
// kernel, in every build. A build against a CUDA LibTorch compiles cuda/*.cu and the glue in
// cuda/*.cpp (tensors to raw pointers, autograd); any other build compiles
// cuda_kernels_unavailable.cpp, where nothing applies. Modules keep their ATen path as the CPU
// path and the oracle, and take a kernel only when `..._applies` says so.
#pragma once

#include <torch/torch.h>

namespace attnlab::attention::kernels {

// Whether this binary carries the CUDA kernels (a CUDA LibTorch was found at build time).
bool cuda_kernels_built();

// Whether modules may take the kernels (default on). Off, every module takes its ATen path on
// every device: the "without kernels" side of comparisons and benchmarks (recipe key
// train.cuda_kernels). Process-wide, like the choice of BLAS.
void set_cuda_kernels_enabled(bool on);
bool cuda_kernels_enabled();

// Turns the kernels off for a scope (tests and benchmarks compare against the ATen path).
class CudaKernelsDisabled {
 public:
  CudaKernelsDisabled() : previous_(cuda_kernels_enabled()) { set_cuda_kernels_enabled(false); }
  ~CudaKernelsDisabled() { set_cuda_kernels_enabled(previous_); }
  CudaKernelsDisabled(const CudaKernelsDisabled&) = delete;
  CudaKernelsDisabled& operator=(const CudaKernelsDisabled&) = delete;

 private:
  bool previous_;
};

// --- Mega EMA (cuda/ema_scan.h) ---
// The scan applies to x on a CUDA device, float32 or bfloat16, with ema_dim in {1,2,4,8,16,32}
// and an untruncated kernel (the scan is the recurrence; a truncated EMA is an FIR).
bool ema_scan_applies(const torch::Tensor& x, int64_t ema_dim, bool truncated);
// y = the EMA of x (B, T, D) (padded positions already zeroed), in x's dtype. w, e, q (R, h)
// float32 with R = D (forward direction only) or 2D (rows [D, 2D) run in reverse and are added).
// Differentiable in x, w, e and q.
torch::Tensor ema_scan(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& e,
                       const torch::Tensor& q);
// Causal streaming from h0 (B, D, h) (undefined = zeros): y and the last state. Not
// differentiable: callers that need gradients take the ATen path.
std::pair<torch::Tensor, torch::Tensor> ema_scan_stream(const torch::Tensor& x,
                                                        const torch::Tensor& w,
                                                        const torch::Tensor& e,
                                                        const torch::Tensor& q,
                                                        const torch::Tensor& h0);

// --- Fused tap attention (cuda/tap_attention.h) ---
// Applies to q on a CUDA device, float32 or bfloat16, head_dim <= 128.
bool tap_attention_applies(const torch::Tensor& q);
struct TapAttentionOutput {
  torch::Tensor out;      // (B, H, n, d) in q's dtype
  torch::Tensor entropy;   // (B, H, n) float32: each row's attention entropy (0 for dead rows)
  torch::Tensor has_keys;  // (B, H, n) bool: the row had a key to attend to (not dead)
};
// softmax(scale q k^T + perturbation, masked) v with the row entropies, never storing the scores.
// q (B, H, Tq, d), k, v (B, H, Tk, d); perturbation broadcastable to (B, H, Tq, Tk) or undefined;
// key_padding_mask (B, Tk) bool (true = padding) or undefined. Head-sparse (MoH): rows (B, H, n)
// int64 lists each (b, h)'s query positions, the first row_count (B, H) of them real; then the
// outputs are per slot and a perturbation is not allowed. Differentiable in q, k, v and the
// perturbation, through the output and the entropy.
TapAttentionOutput tap_attention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, const torch::Tensor& perturbation,
                                 const torch::Tensor& key_padding_mask, bool causal, double scale,
                                 const torch::Tensor& rows = {},
                                 const torch::Tensor& row_count = {});

}  // namespace attnlab::attention::kernels
