// Mega's multi-dimensional damped EMA by FFT convolution, its streaming form, and the sequential
// oracle; see ema.h for the equations, shapes and parameter names.
#include "attention/mega/ema.h"

#include <cmath>
#include <vector>

#include "attention/kernels/cuda_kernels.h"

namespace attnlab::attention {
namespace {

// FFTs run in float64 for float64 inputs and in float32 otherwise (fairseq casts to float: half
// precision FFTs of long kernels lose the tail of the decay).
torch::ScalarType compute_dtype(const torch::Tensor& x) {
  return x.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

// Linear (not circular) convolution of x (B, D, N) with k (D, Lk) along the last dimension via FFT
// of length n >= N + Lk - 1, returning samples [start, start + count) of the full result.
torch::Tensor fft_convolve(const torch::Tensor& x, const torch::Tensor& k, int64_t n, int64_t start,
                           int64_t count) {
  const auto x_f = torch::fft::rfft(x, n, -1);                          // (B, D, n/2+1)
  const auto k_f = torch::fft::rfft(k, n, -1);                          // (D, n/2+1)
  return torch::fft::irfft(x_f * k_f, n, -1).narrow(-1, start, count);  // (B, D, count)
}

}  // namespace

MultiHeadEmaImpl::MultiHeadEmaImpl(const EmaOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "mega ema: d_model must be positive (got ", options.d_model,
              ")");
  TORCH_CHECK(options.ema_dim > 0, "mega ema: ema_dim must be positive (got ", options.ema_dim,
              ")");
  TORCH_CHECK(options.truncation >= 0, "mega ema: truncation must be >= 0 (0 = none), got ",
              options.truncation);
  const int64_t rows = options.bidirectional ? 2 * options.d_model : options.d_model;
  const int64_t h = options.ema_dim;
  scale_ = 1.0 / std::sqrt(static_cast<double>(h));
  // fairseq's initialisation: delta, alpha ~ N(0, 0.2) before the sigmoid (p, damping ~ 0.5);
  // beta = [+1, -1, +1, ...] + N(0, 0.02) ("seems more stable"); gamma, omega ~ N(0, 1).
  auto sign = torch::ones({h, 1});
  for (int64_t i = 1; i < h; i += 2) sign[i] = -1.0;
  delta_ = register_parameter("delta", torch::randn({rows, h, 1}) * 0.2);
  alpha_ = register_parameter("alpha", torch::randn({rows, h, 1}) * 0.2);
  beta_ = register_parameter("beta", torch::randn({rows, h, 1}) * 0.02 + sign);
  gamma_ = register_parameter("gamma", torch::randn({rows, h}));
  omega_ = register_parameter("omega", torch::randn({options.d_model}));
}

std::pair<torch::Tensor, torch::Tensor> MultiHeadEmaImpl::coefficients() const {
  const auto p = torch::sigmoid(delta_);            // (kD,h,1)
  const auto q = 1.0 - p * torch::sigmoid(alpha_);  // (kD,h,1)
  return {p, q};
}

torch::Tensor MultiHeadEmaImpl::kernel(int64_t length) const {
  TORCH_CHECK(length >= 1, "mega ema: kernel length must be >= 1 (got ", length, ")");
  const int64_t taps = options_.truncation > 0 ? std::min(options_.truncation, length) : length;
  const auto [p, q] = coefficients();
  // q^l as exp(l log q) (a Vandermonde row per (d, n)), never a cumulative product.
  const auto vander =
      torch::arange(taps, p.options()).view({1, 1, taps}) * torch::log(q);  // (kD,h,Lk)
  const auto terms = (p * beta_) * torch::exp(vander);                      // (kD,h,Lk)
  return torch::einsum("dnl,dn->dl", {terms, gamma_ * scale_});             // (kD,Lk)
}

torch::Tensor MultiHeadEmaImpl::masked_input(const torch::Tensor& x,
                                             const torch::Tensor& key_padding_mask) const {
  TORCH_CHECK(x.defined() && x.dim() == 3 && x.size(2) == options_.d_model,
              "mega ema: input must be (B, T, ", options_.d_model, "), got ",
              x.defined() ? x.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(x.size(1) >= 1, "mega ema: the sequence must have at least one step");
  if (!key_padding_mask.defined()) return x;
  TORCH_CHECK(key_padding_mask.scalar_type() == torch::kBool && key_padding_mask.dim() == 2 &&
                  key_padding_mask.size(0) == x.size(0) && key_padding_mask.size(1) == x.size(1),
              "mega ema: key_padding_mask must be (B, T) bool, got ", key_padding_mask.sizes());
  // Zeroed (not just masked) so padded values cannot reach valid positions through the kernel.
  return x.masked_fill(key_padding_mask.to(x.device()).unsqueeze(-1), 0.0);
}

torch::Tensor MultiHeadEmaImpl::prepare_input(const torch::Tensor& x,
                                              const torch::Tensor& key_padding_mask) const {
  return masked_input(x, key_padding_mask).to(compute_dtype(x)).transpose(1, 2);  // (B,D,T)
}

MultiHeadEmaImpl::ScanCoefficients MultiHeadEmaImpl::scan_coefficients(bool two_way) const {
  const auto [p, q] = coefficients();  // (kD,h,1)
  const int64_t rows = two_way ? p.size(0) : options_.d_model;
  return {(p * beta_).squeeze(-1).narrow(0, 0, rows), (gamma_ * scale_).narrow(0, 0, rows),
          q.squeeze(-1).narrow(0, 0, rows)};
}

torch::Tensor MultiHeadEmaImpl::moving_average(const torch::Tensor& x,
                                               const torch::Tensor& key_padding_mask,
                                               bool causal) const {
  const bool truncated = options_.truncation > 0 && options_.truncation < x.size(1);
  if (kernels::ema_scan_applies(x, options_.ema_dim, truncated)) {
    // The CUDA chunked scan (attention/kernels/): the recurrence itself, no FFT.
    const auto c = scan_coefficients(options_.bidirectional && !causal);
    return kernels::ema_scan(masked_input(x, key_padding_mask), c.w, c.e, c.q);
  }
  const auto xin = prepare_input(x, key_padding_mask);  // (B,D,T)
  const int64_t t = xin.size(2), d = options_.d_model;
  const auto k = kernel(t).to(xin.scalar_type());  // (kD,Lk)
  const int64_t taps = k.size(1);
  torch::Tensor y;  // (B,D,T)
  if (!options_.bidirectional || causal) {
    y = fft_convolve(xin, k.narrow(0, 0, d), 2 * t, 0, t);
  } else {
    // One kernel of length 2Lk-1 = [reverse(K2) | K1] (K1[0] and K2[0] overlap at index Lk-1),
    // applied to x left-padded by Lk-1; output t sits at index t + 2Lk-2 of the full convolution.
    const auto k1 = k.narrow(0, 0, d), k2 = k.narrow(0, d, d);  // (D,Lk)
    const auto both = torch::constant_pad_nd(k1, {taps - 1, 0}) +
                      torch::constant_pad_nd(k2.flip({-1}), {0, taps - 1});  // (D,2Lk-1)
    const auto padded = torch::constant_pad_nd(xin, {taps - 1, 0});          // (B,D,T+Lk-1)
    const int64_t n = 2 * (t + taps - 1);
    y = fft_convolve(padded, both, n, 2 * taps - 2, t);
  }
  return y.transpose(1, 2).to(x.scalar_type());  // (B,D,T) -> (B,T,D)
}

torch::Tensor MultiHeadEmaImpl::forward(const torch::Tensor& x,
                                        const torch::Tensor& key_padding_mask, bool causal) {
  return torch::silu(moving_average(x, key_padding_mask, causal) + x * omega_);
}

EmaStreamOutput MultiHeadEmaImpl::moving_average_stream(const torch::Tensor& x,
                                                        const torch::Tensor& key_padding_mask,
                                                        const EmaState& state) const {
  TORCH_CHECK(options_.truncation == 0,
              "mega ema: streaming needs truncation = 0 (a truncated EMA carries no finite state)");
  if (!torch::GradMode::is_enabled() &&
      kernels::ema_scan_applies(x, options_.ema_dim, /*truncated=*/false)) {
    check_stream_state(state, x.size(0));
    const auto c = scan_coefficients(/*two_way=*/false);
    auto [y, last] =
        kernels::ema_scan_stream(masked_input(x, key_padding_mask), c.w, c.e, c.q, state.hidden);
    return {y, EmaState{last}};  // float32, as the FFT path's state
  }
  const auto xin = prepare_input(x, key_padding_mask);  // (B,D,T)
  const int64_t b = xin.size(0), d = options_.d_model, t = xin.size(2), h = options_.ema_dim;
  const auto dtype = xin.scalar_type();
  auto [p, q] = coefficients();
  p = p.narrow(0, 0, d).to(dtype);  // forward rows, (D,h,1)
  q = q.narrow(0, 0, d).to(dtype);
  const auto beta = beta_.narrow(0, 0, d).to(dtype);             // (D,h,1)
  const auto eta = (gamma_.narrow(0, 0, d) * scale_).to(dtype);  // (D,h)
  const auto log_q = torch::log(q);                              // (D,h,1)
  auto y = fft_convolve(
      xin,
      torch::einsum(
          "dnl,dn->dl",
          {p * beta * torch::exp(torch::arange(t, xin.options()).view({1, 1, t}) * log_q), eta}),
      2 * t, 0, t);  // (B,D,T)

  // Last state of this chunk: s_{T-1} = sum_j p beta q^{T-1-j} x_j  (+ q^T h_prev).
  const auto back_powers =
      torch::exp(torch::arange(t - 1, -1, -1, xin.options()).view({1, 1, t}) * log_q);  // (D,h,T)
  auto hidden = torch::einsum("bdt,dnt->bdn", {xin, p * beta * back_powers});           // (B,D,h)
  if (state.hidden.defined()) {
    check_stream_state(state, b);
    const auto h_prev = state.hidden.to(dtype);
    // The carried state decays into step t of this chunk as q^{t+1} h_prev.
    const auto powers =
        torch::exp(torch::arange(1, t + 1, xin.options()).view({1, 1, t}) * log_q);  // (D,h,T)
    y = y + torch::einsum("bdn,dnt->bdt", {h_prev * eta, powers});                   // (B,D,T)
    hidden = hidden + torch::exp(static_cast<double>(t) * log_q).squeeze(-1) * h_prev;
  }
  return {y.transpose(1, 2).to(x.scalar_type()), EmaState{hidden}};
}

void MultiHeadEmaImpl::check_stream_state(const EmaState& state, int64_t batch) const {
  if (!state.hidden.defined()) return;
  const int64_t d = options_.d_model, h = options_.ema_dim;
  TORCH_CHECK(state.hidden.dim() == 3 && state.hidden.size(0) == batch &&
                  state.hidden.size(1) == d && state.hidden.size(2) == h,
              "mega ema: state must be (B, D, h) = (", batch, ", ", d, ", ", h, "), got ",
              state.hidden.sizes());
}

EmaStreamOutput MultiHeadEmaImpl::forward_stream(const torch::Tensor& x,
                                                 const torch::Tensor& key_padding_mask,
                                                 const EmaState& state) {
  auto result = moving_average_stream(x, key_padding_mask, state);
  result.out = torch::silu(result.out + x * omega_);
  return result;
}

EmaReference ema_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                           bool causal, const MultiHeadEmaImpl& ema, const torch::Tensor& h0) {
  torch::NoGradGuard no_grad;
  const auto& opt = ema.options();
  const int64_t b_n = x.size(0), t_n = x.size(1), d_n = opt.d_model, h_n = opt.ema_dim;
  auto xs = x.detach().to(torch::kCPU, torch::kDouble).contiguous();
  if (key_padding_mask.defined()) {
    xs = xs.masked_fill(key_padding_mask.to(torch::kCPU).unsqueeze(-1), 0.0).contiguous();
  }
  const auto p_t = torch::sigmoid(ema.delta().detach().to(torch::kCPU, torch::kDouble));
  const auto damp_t = torch::sigmoid(ema.alpha().detach().to(torch::kCPU, torch::kDouble));
  const auto beta_t = ema.beta().detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto gamma_t = ema.gamma().detach().to(torch::kCPU, torch::kDouble).contiguous();
  const auto xa = xs.accessor<double, 3>();
  const auto pa = p_t.accessor<double, 3>();
  const auto da = damp_t.accessor<double, 3>();
  const auto ba = beta_t.accessor<double, 3>();
  const auto ga = gamma_t.accessor<double, 2>();
  TORCH_CHECK(!h0.defined() || opt.truncation == 0,
              "ema_reference: an initial state needs truncation = 0");
  const auto h0_t = h0.defined() ? h0.detach().to(torch::kCPU, torch::kDouble).contiguous()
                                 : torch::zeros({b_n, d_n, h_n}, torch::kDouble);
  const auto h0a = h0_t.accessor<double, 3>();
  const double scale = 1.0 / std::sqrt(static_cast<double>(h_n));
  const int64_t taps = opt.truncation > 0 ? std::min(opt.truncation, t_n) : t_n;

  auto y = torch::zeros({b_n, t_n, d_n}, torch::kDouble);
  auto last = torch::zeros({b_n, d_n, h_n}, torch::kDouble);
  auto ya = y.accessor<double, 3>();
  auto la = last.accessor<double, 3>();
  const bool two_way = opt.bidirectional && !causal;
  std::vector<double> states(static_cast<size_t>(t_n));
  for (int64_t b = 0; b < b_n; ++b) {
    for (int64_t d = 0; d < d_n; ++d) {
      for (int64_t n = 0; n < h_n; ++n) {
        for (int dir = 0; dir < (two_way ? 2 : 1); ++dir) {
          const int64_t row = d + dir * d_n;
          const double p = pa[row][n][0];
          const double q = 1.0 - p * da[row][n][0];
          const double q_taps = std::pow(q, static_cast<double>(taps));
          double s = dir == 0 ? h0a[b][d][n] : 0.0;
          for (int64_t i = 0; i < t_n; ++i) {
            const int64_t step = dir == 0 ? i : t_n - 1 - i;  // backward pass runs t descending
            s = p * ba[row][n][0] * xa[b][step][d] + q * s;
            states[static_cast<size_t>(i)] = s;
            // Truncated to `taps` terms: drop what was already in the state `taps` steps ago.
            double kept = s;
            if (i >= taps) kept -= q_taps * states[static_cast<size_t>(i - taps)];
            ya[b][step][d] += ga[row][n] * scale * kept;
          }
          if (dir == 0) la[b][d][n] = s;
        }
      }
    }
  }
  return {y, last};
}

}  // namespace attnlab::attention
