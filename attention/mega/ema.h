// Mega's multi-dimensional damped EMA (Ma et al. 2023, §3.1; fairseq `MultiHeadEMA`; notes §2.2).
// Per channel d (D = d_model) and expansion index n (h = ema_dim), with fairseq's parameter names:
//   p = sigmoid(delta)   input weight (the paper's alpha)
//   a = sigmoid(alpha)   damping      (the paper's delta)      -- fairseq swaps the two names
//   q = 1 - p * a        decay of the previous state, in (0, 1)
//   s_t = p * beta * x_t + q * s_{t-1}                           (D, h) states
//   y_t = sum_n gamma_n / sqrt(h) * s_{t,n}
// which is the causal convolution y = K * x with K_d[l] = sum_n gamma_n/sqrt(h) p_n beta_n q_n^l.
// It is computed by FFT at length 2L (no circular wrap). Bidirectional: rows [0, D) of the
// parameters give the forward kernel K1, rows [D, 2D) the backward kernel K2, and
//   y_t = sum_{j<=t} K1[t-j] x_j + sum_{j>=t} K2[j-t] x_j     (x_t counted by both directions).
// On a CUDA device (float32 or bfloat16, untruncated, ema_dim a power of two up to 32) the
// convolution runs as the chunked scan of attention/kernels/ instead, with the FFT path kept as
// the CPU path and the oracle.
// Truncation: the kernel keeps its first min(truncation, L) taps (an FIR, no longer a recurrence).
// Inputs at padded positions are zeroed before the convolution (fairseq), so padding never flows
// into valid positions through the EMA. The module output is SiLU(y + omega * x).
// Shapes: x (B, T, D), key_padding_mask (B, T) bool (true = padding), state (B, D, h).
// Parameters: delta, alpha, beta (kD, h, 1), gamma (kD, h), omega (D); kD = 2D if bidirectional.
#pragma once

#include <torch/torch.h>

namespace attnlab::attention {

struct EmaOptions {
  int64_t d_model = 0;
  int64_t ema_dim = 16;       // h (fairseq `ndim`)
  bool bidirectional = true;  // two kernels; a causal call uses the forward one only
  int64_t truncation = 0;     // 0: none; else the kernel keeps min(truncation, L) taps
};

// The state carried between chunks of a causal stream: s_{t} of the forward direction after the
// last processed step, (B, D, h). Undefined means zeros (the start of a sequence).
struct EmaState {
  torch::Tensor hidden;
};

struct EmaStreamOutput {
  torch::Tensor out;  // (B, T, D)
  EmaState state;     // after the last step of this chunk
};

class MultiHeadEmaImpl : public torch::nn::Module {
 public:
  explicit MultiHeadEmaImpl(const EmaOptions& options);

  // The convolution kernel of length min(truncation, length) (or `length` with no truncation):
  // (kD, Lk), forward rows first, then backward rows when bidirectional.
  torch::Tensor kernel(int64_t length) const;

  // y = K * x: the EMA alone, without omega skip and SiLU. causal = true uses the forward kernel
  // only (also for a bidirectional module). x (B, T, D) -> (B, T, D).
  torch::Tensor moving_average(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                               bool causal) const;
  // SiLU(moving_average(x) + omega * x): what the Mega sub-layer uses. (B, T, D) -> (B, T, D).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask = {},
                        bool causal = false);

  // Causal streaming: the chunk x (B, T, D) continues a sequence whose state is `state`. Feeding a
  // sequence in pieces gives the same outputs as one causal pass. Requires truncation == 0 (a
  // truncated EMA has no finite state). moving_average_stream returns y without omega and SiLU.
  EmaStreamOutput moving_average_stream(const torch::Tensor& x,
                                        const torch::Tensor& key_padding_mask,
                                        const EmaState& state) const;
  EmaStreamOutput forward_stream(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                                 const EmaState& state);

  // p = sigmoid(delta) and q = 1 - p * sigmoid(alpha), each (kD, h, 1).
  std::pair<torch::Tensor, torch::Tensor> coefficients() const;

  const EmaOptions& options() const { return options_; }
  torch::Tensor delta() const { return delta_; }
  torch::Tensor alpha() const { return alpha_; }
  torch::Tensor beta() const { return beta_; }
  torch::Tensor gamma() const { return gamma_; }
  torch::Tensor omega() const { return omega_; }

 private:
  // x (B, T, D) checked, with padded positions zeroed, in its own dtype.
  torch::Tensor masked_input(const torch::Tensor& x, const torch::Tensor& key_padding_mask) const;
  // The same as (B, D, T) in the compute dtype of the FFT path.
  torch::Tensor prepare_input(const torch::Tensor& x, const torch::Tensor& key_padding_mask) const;
  // The scan kernel's per-row weights (attention/kernels/cuda/ema_scan.h): w = p beta,
  // e = gamma / sqrt(h), q, each (R, h) with R = 2D when two_way, else the forward rows (D).
  struct ScanCoefficients {
    torch::Tensor w, e, q;
  };
  ScanCoefficients scan_coefficients(bool two_way) const;
  void check_stream_state(const EmaState& state, int64_t batch) const;

  EmaOptions options_;
  double scale_;  // 1 / sqrt(h)
  torch::Tensor delta_, alpha_, beta_, gamma_, omega_;
};
TORCH_MODULE(MultiHeadEma);

// The oracle: the recurrence s_t = p beta x_t + q s_{t-1} run with explicit loops over batch,
// channel, dimension and time in double, from `ema`'s own parameters (padded inputs zeroed, as
// the module). Bidirectional and not causal: a forward pass with rows [0, D) plus a backward pass
// (t descending) with rows [D, 2D). Truncation to Lk taps is applied to the recurrence exactly:
// the sum of the last Lk terms is s_t - q^Lk s_{t-Lk}. `h0` (B, D, h) starts the forward direction
// (undefined = zeros). Not differentiable; returns y (B, T, D) float64 on the CPU, without omega
// and SiLU, and the last forward state (B, D, h) (untruncated recurrence).
struct EmaReference {
  torch::Tensor y;
  torch::Tensor last_state;
};
EmaReference ema_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                           bool causal, const MultiHeadEmaImpl& ema, const torch::Tensor& h0 = {});

}  // namespace attnlab::attention
