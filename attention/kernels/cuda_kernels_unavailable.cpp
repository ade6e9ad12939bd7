// The kernel dispatch of a build without a CUDA LibTorch: no kernel applies, and calling one
// anyway is an internal error (a module must ask `..._applies` first).
#include "attention/kernels/cuda_kernels.h"

namespace attnlab::attention::kernels {
namespace {
[[noreturn]] void not_built(const char* kernel) {
  TORCH_INTERNAL_ASSERT(false, kernel,
                        ": this attnlab was built without CUDA kernels (no CUDA LibTorch)");
  std::abort();  // unreachable: the assert throws
}
}  // namespace

bool cuda_kernels_built() { return false; }

bool ema_scan_applies(const torch::Tensor&, int64_t, bool) { return false; }
torch::Tensor ema_scan(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                       const torch::Tensor&) {
  not_built("ema_scan");
}
std::pair<torch::Tensor, torch::Tensor> ema_scan_stream(const torch::Tensor&, const torch::Tensor&,
                                                        const torch::Tensor&, const torch::Tensor&,
                                                        const torch::Tensor&) {
  not_built("ema_scan_stream");
}

bool tap_attention_applies(const torch::Tensor&) { return false; }
TapAttentionOutput tap_attention(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                 const torch::Tensor&, const torch::Tensor&, bool, double,
                                 const torch::Tensor&, const torch::Tensor&) {
  not_built("tap_attention");
}

}  // namespace attnlab::attention::kernels
