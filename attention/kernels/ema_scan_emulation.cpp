// ATen replay of the chunked-scan EMA kernels; see ema_scan_emulation.h and cuda/ema_scan.h.
#include "attention/kernels/ema_scan_emulation.h"

namespace attnlab::attention::kernels {
namespace {

// x (B, T, D) in scan order (flipped when reverse), zero-padded to whole chunks:
// (B, chunks, C, D), with the number of real steps of each chunk.
struct Chunked {
  torch::Tensor x;
  std::vector<int64_t> steps;
};

Chunked chunked(const torch::Tensor& x, int64_t chunk, bool reverse) {
  TORCH_CHECK(chunk >= 1, "ema scan: chunk must be >= 1");
  const int64_t t = x.size(1), chunks = (t + chunk - 1) / chunk;
  auto ordered = reverse ? x.flip({1}) : x;
  ordered = torch::constant_pad_nd(ordered, {0, 0, 0, chunks * chunk - t});  // (B,chunks*C,D)
  Chunked out{ordered.view({x.size(0), chunks, chunk, x.size(2)}), {}};      // (B,chunks,C,D)
  for (int64_t c = 0; c < chunks; ++c) out.steps.push_back(std::min(chunk, t - c * chunk));
  return out;
}

// Step k of every chunk as (B, chunks, D, 1), and which chunks have a real step k (chunks, 1, 1).
torch::Tensor step_input(const Chunked& xs, int64_t k) {
  return xs.x.select(2, k).unsqueeze(-1);  // (B,chunks,D,1)
}
torch::Tensor step_is_real(const Chunked& xs, int64_t k, const torch::Device& device) {
  std::vector<uint8_t> real;
  for (int64_t steps : xs.steps) real.push_back(k < steps ? 1 : 0);
  return torch::tensor(real, torch::kBool).to(device).view({-1, 1, 1});  // (chunks,1,1)
}

}  // namespace

EmaScanResult ema_scan_emulated(const torch::Tensor& x, const torch::Tensor& w,
                                const torch::Tensor& e, const torch::Tensor& q,
                                const torch::Tensor& h0, int64_t chunk, bool reverse) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), h = q.size(1);
  const auto xs = chunked(x, chunk, reverse);
  const int64_t chunks = static_cast<int64_t>(xs.steps.size());
  const auto opts = x.options();
  const auto wv = w.to(opts), ev = e.to(opts), qv = q.to(opts);  // (D,h)

  // Phase 1: every chunk from zero.
  auto state = torch::zeros({b, chunks, d, h}, opts);
  for (int64_t k = 0; k < chunk; ++k) {
    const auto next = qv * state + wv * step_input(xs, k);
    state = torch::where(step_is_real(xs, k, x.device()), next, state);
  }
  // Phase 2: the state entering each chunk.
  auto carried = h0.defined() ? h0.to(opts) : torch::zeros({b, d, h}, opts);  // (B,D,h)
  std::vector<torch::Tensor> entering;
  for (int64_t c = 0; c < chunks; ++c) {
    entering.push_back(carried);
    carried = torch::pow(qv, static_cast<double>(xs.steps[c])) * carried + state.select(1, c);
  }
  // Phase 3: rerun every chunk from its entering state.
  state = torch::stack(entering, 1);  // (B,chunks,D,h)
  std::vector<torch::Tensor> outputs;
  for (int64_t k = 0; k < chunk; ++k) {
    state = qv * state + wv * step_input(xs, k);
    outputs.push_back((state * ev).sum(-1));  // (B,chunks,D)
  }
  auto y = torch::stack(outputs, 2).reshape({b, chunks * chunk, d}).narrow(1, 0, t);  // (B,T,D)
  if (reverse) y = y.flip({1});
  return {y, carried};
}

EmaGradSums ema_scan_grad_sums_emulated(const torch::Tensor& x, const torch::Tensor& dy,
                                        const torch::Tensor& q, int64_t chunk, bool reverse) {
  const int64_t b = x.size(0), d = x.size(2), h = q.size(1);
  const auto xs = chunked(x, chunk, reverse), gs = chunked(dy.to(x.dtype()), chunk, reverse);
  const int64_t chunks = static_cast<int64_t>(xs.steps.size());
  const auto opts = x.options();
  const auto qv = q.to(opts);

  // Phase 1: end states of u and r from zero; r_t uses u_{t-1}.
  auto u = torch::zeros({b, chunks, d, h}, opts), r = torch::zeros_like(u);
  for (int64_t k = 0; k < chunk; ++k) {
    const auto real = step_is_real(xs, k, x.device());
    const auto r_next = qv * r + u;
    const auto u_next = qv * u + step_input(xs, k);
    r = torch::where(real, r_next, r);
    u = torch::where(real, u_next, u);
  }
  // Phase 2: over C zero-input steps from (a, r0): u -> q^C a, r -> q^C r0 + C q^(C-1) a.
  auto a = torch::zeros({b, d, h}, opts), r0 = torch::zeros({b, d, h}, opts);
  std::vector<torch::Tensor> u_in, r_in;
  for (int64_t c = 0; c < chunks; ++c) {
    u_in.push_back(a);
    r_in.push_back(r0);
    const auto steps = static_cast<double>(xs.steps[c]);
    r0 = torch::pow(qv, steps) * r0 + steps * torch::pow(qv, steps - 1.0) * a + r.select(1, c);
    a = torch::pow(qv, steps) * a + u.select(1, c);
  }
  // Phase 3: rerun and reduce against dy (padded steps have dy = 0 and add nothing).
  u = torch::stack(u_in, 1);
  r = torch::stack(r_in, 1);
  auto grad_u = torch::zeros_like(u), grad_r = torch::zeros_like(u);
  for (int64_t k = 0; k < chunk; ++k) {
    r = qv * r + u;
    u = qv * u + step_input(xs, k);
    const auto g = step_input(gs, k);  // (B,chunks,D,1)
    grad_u = grad_u + g * u;
    grad_r = grad_r + g * r;
  }
  return {grad_u, grad_r};
}

EmaParameterGrads ema_parameter_grads(const EmaGradSums& sums, const torch::Tensor& w,
                                      const torch::Tensor& e) {
  const auto gu = sums.grad_u.sum(torch::IntArrayRef{0, 1});  // (D,h)
  const auto gr = sums.grad_r.sum(torch::IntArrayRef{0, 1});
  return {e * gu, w * gu, w * e * gr};
}

}  // namespace attnlab::attention::kernels
