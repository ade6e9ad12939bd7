// The chunked-scan EMA kernels (cuda/ema_scan.h) replayed with ATen ops on any device, phase by
// phase and step by step as the CUDA threads run them: chunk end states from zero, the carry
// across chunks, the rerun of each chunk. CPU tests check this replay against the sequential
// oracle (ema_reference) and against autograd through the FFT path, so the algorithm and the
// gradient formulas the kernels implement are tested on every machine; GPU tests then compare
// the kernels with it. Not a fast path: T/C + C small ATen steps.
// Shapes as in cuda/ema_scan.h: x, dy (B, T, D); w, e, q (D, h); h0, last_state (B, D, h);
// grad sums (B, ceil(T/C), D, h). Computes in x's dtype (use float64 for tests against the oracle).
#pragma once

#include <torch/torch.h>

namespace attnlab::attention::kernels {

struct EmaScanResult {
  torch::Tensor y;           // (B, T, D)
  torch::Tensor last_state;  // (B, D, h), after the last step in scan order
};

// y_t = sum_n e_n s_{t,n}, s_t = w_n x_t + q_n s_{t-1}, s_{-1} = h0 (zeros if undefined); with
// `reverse`, t runs from T - 1 down to 0.
EmaScanResult ema_scan_emulated(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& e, const torch::Tensor& q,
                                const torch::Tensor& h0, int64_t chunk, bool reverse);

// Per (b, chunk): G_u = sum_t dy_t u_t and G_r = sum_t dy_t r_t, with u_t = x_t + q u_{t-1} and
// r_t = q r_{t-1} + u_{t-1} from zero (h0 = 0).
struct EmaGradSums {
  torch::Tensor grad_u, grad_r;  // (B, ceil(T/C), D, h)
};
EmaGradSums ema_scan_grad_sums_emulated(const torch::Tensor& x, const torch::Tensor& dy,
                                        const torch::Tensor& q, int64_t chunk, bool reverse);

// The parameter gradients from the sums, as the CUDA glue forms them (s = w u, so
// dL/dw = e G_u, dL/de = w G_u, dL/dq = w e G_r, each summed over b and chunks): (D, h) each.
struct EmaParameterGrads {
  torch::Tensor w, e, q;
};
EmaParameterGrads ema_parameter_grads(const EmaGradSums& sums, const torch::Tensor& w,
                                      const torch::Tensor& e);

}  // namespace attnlab::attention::kernels
