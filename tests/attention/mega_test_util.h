// Helpers for the Mega tests: random parameters large enough that attention is not dominated by
// the tiny initial Q/K, parameter copies between full and chunked modules, and a per-chunk
// re-computation of the sub-layer that loops over chunks explicitly (the chunking oracle).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/mega/mega_attention.h"

namespace attnlab::testing {

inline double mega_max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kDouble) - b.to(torch::kCPU, torch::kDouble))
      .abs()
      .max()
      .item<double>();
}

// Every parameter ~ N(0, std) except the EMA's (kept at their initialisation, already O(1)).
inline void mega_randomize(attention::MegaAttention& m, double std = 0.5) {
  torch::NoGradGuard no_grad;
  for (auto& item : m.named_parameters()) {
    if (item.key().rfind("move.", 0) == 0) continue;
    item.value().normal_(0.0, std);
  }
}

// Copies src's parameters into dst. The simple bias tables may differ in size (max_positions vs
// chunk size): the smaller table is the centre of the larger, which holds the same offsets.
inline void mega_copy_parameters(attention::MegaAttention& src, attention::MegaAttention& dst) {
  torch::NoGradGuard no_grad;
  auto from = src.named_parameters();
  for (auto& item : dst.named_parameters()) {
    const auto& s = from[item.key()];
    if (s.sizes() == item.value().sizes()) {
      item.value().copy_(s);
    } else {
      const int64_t ms = (s.size(0) + 1) / 2, md = (item.value().size(0) + 1) / 2;
      if (ms >= md) {
        item.value().copy_(s.narrow(0, ms - md, 2 * md - 1));
      } else {  // dst's extra offsets keep their values
        item.value().narrow(0, md - ms, 2 * ms - 1).copy_(s);
      }
    }
  }
}

// Q and K (B, T, z) of the sub-layer, recomputed from its pieces.
inline std::pair<torch::Tensor, torch::Tensor> mega_manual_qk(attention::MegaAttention& m,
                                                              const torch::Tensor& x,
                                                              const torch::Tensor& mask,
                                                              bool causal) {
  const auto& o = m.options();
  const auto x_hat = o.prenorm ? m.norm()->forward(x, mask) : x;
  const auto base = m.mx_proj()->forward(m.ema()->forward(x_hat, mask, causal));
  const auto zs = torch::silu(base.narrow(-1, o.d_model, o.z_dim));
  return {zs * m.qk_gamma()[0] + m.qk_beta()[0], zs * m.qk_gamma()[1] + m.qk_beta()[1]};
}

// The sub-layer recomputed with an explicit loop over chunks of `chunk` positions (<= 0: one
// chunk), the last one shorter when chunk does not divide T. Eval mode, not causal, no padding.
inline torch::Tensor mega_manual_forward(attention::MegaAttention& m, const torch::Tensor& x,
                                         int64_t chunk) {
  const auto& o = m.options();
  const int64_t t = x.size(1), d = o.d_model, z = o.z_dim, vd = m.v_dim();
  const auto x_hat = o.prenorm ? m.norm()->forward(x) : x;
  const auto v = torch::silu(m.v_proj()->forward(x_hat));
  const auto base = m.mx_proj()->forward(m.ema()->forward(x_hat, {}, false));
  const auto u = torch::sigmoid(base.narrow(-1, 0, d));
  const auto zs = torch::silu(base.narrow(-1, d, z));
  const auto r = torch::silu(base.narrow(-1, d + z, vd));
  const auto hx = base.narrow(-1, d + z + vd, d);
  const auto q = zs * m.qk_gamma()[0] + m.qk_beta()[0];
  const auto k = zs * m.qk_gamma()[1] + m.qk_beta()[1];
  const int64_t c = chunk > 0 ? chunk : t;
  std::vector<torch::Tensor> pieces;
  for (int64_t start = 0; start < t; start += c) {
    const int64_t len = std::min(c, t - start);
    const auto qs = q.narrow(1, start, len), ks = k.narrow(1, start, len);
    const auto dots = torch::matmul(qs, ks.transpose(1, 2));  // (B,len,len)
    torch::Tensor a;
    if (o.attention_fn == "softmax") {
      a = torch::softmax(dots / std::sqrt(static_cast<double>(z)) + m.relative_bias(len), -1);
    } else {
      const auto s = dots / static_cast<double>(len) + m.relative_bias(len);
      a = o.attention_fn == "laplace" ? attention::mega_laplace(s) : attention::mega_relu2(s);
    }
    pieces.push_back(torch::matmul(a, v.narrow(1, start, len)));
  }
  const auto h = torch::silu(hx + m.h_proj()->forward(torch::cat(pieces, 1) * r));
  auto out = x + u * (h - x);
  return o.prenorm ? out : m.norm()->forward(out);
}

}  // namespace attnlab::testing
