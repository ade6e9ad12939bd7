// ATen replay of the fused tap attention kernels; see tap_attention_emulation.h.
#include "attention/kernels/tap_attention_emulation.h"

#include <limits>

namespace attnlab::attention::kernels {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// What every warp knows about its row: the query position, whether the slot is real, and the
// query vector. positions (B, H, n), active (B, H, n) bool, q_rows (B, H, n, d).
struct Rows {
  torch::Tensor positions, active, q_rows;
};

Rows rows_of(const TapAttentionArgs& a) {
  const int64_t b = a.q.size(0), h = a.q.size(1), tq = a.q.size(2), d = a.q.size(3);
  Rows r;
  if (a.rows.defined()) {
    const int64_t n = a.rows.size(2);
    r.positions = a.rows;
    r.active = torch::arange(n, a.rows.options()).view({1, 1, n}) < a.row_count.unsqueeze(-1);
  } else {
    r.positions = torch::arange(tq, a.q.options().dtype(torch::kLong)).expand({b, h, tq});
    r.active = torch::ones({b, h, tq}, a.q.options().dtype(torch::kBool));
  }
  r.q_rows = a.q.gather(2, r.positions.unsqueeze(-1).expand({b, h, r.positions.size(2), d}));
  return r;
}

// Whether key j is allowed for each row, (B, H, n) bool, and the rows' scores s_j (B, H, n).
std::pair<torch::Tensor, torch::Tensor> key_step(const TapAttentionArgs& a, const Rows& r,
                                                 int64_t j) {
  auto allowed = r.active;
  if (a.key_padding.defined())
    allowed = allowed & a.key_padding.select(1, j).logical_not().view({-1, 1, 1});
  if (a.causal) allowed = allowed & (r.positions >= j);
  auto s = (r.q_rows * a.k.select(2, j).unsqueeze(2)).sum(-1) * a.scale;  // (B,H,n)
  if (a.perturbation.defined()) s = s + a.perturbation.select(3, j).gather(2, r.positions);
  return {allowed, s};
}

}  // namespace

TapAttentionResult tap_attention_emulated(const TapAttentionArgs& a) {
  const Rows r = rows_of(a);
  const auto row_shape = r.positions.sizes();
  const auto opts = a.q.options();
  auto m = torch::full(row_shape, -kInf, opts), l = torch::zeros(row_shape, opts),
       sum_es = torch::zeros(row_shape, opts), acc = torch::zeros_like(r.q_rows);
  for (int64_t j = 0; j < a.k.size(2); ++j) {
    const auto [allowed, s] = key_step(a, r, j);
    const auto m_new = torch::where(allowed, torch::maximum(m, s), m);
    const auto rescale = torch::where(m == -kInf, torch::zeros_like(m), torch::exp(m - m_new));
    const auto e = torch::where(allowed, torch::exp(s - m_new), torch::zeros_like(s));
    const auto keep = torch::where(allowed, rescale, torch::ones_like(rescale));
    l = l * keep + e;
    sum_es = sum_es * keep + e * torch::where(allowed, s, torch::zeros_like(s));
    acc = acc * keep.unsqueeze(-1) + e.unsqueeze(-1) * a.v.select(2, j).unsqueeze(2);
    m = m_new;
  }
  const auto dead = l == 0;
  const auto safe_l = torch::where(dead, torch::ones_like(l), l);
  const auto lse = m + torch::log(safe_l);
  return {torch::where(dead.unsqueeze(-1), torch::zeros_like(acc), acc / safe_l.unsqueeze(-1)),
          torch::where(dead, torch::full_like(l, -kInf), lse),
          torch::where(dead, torch::zeros_like(l), lse - sum_es / safe_l)};
}

TapAttentionGrads tap_attention_backward_emulated(const TapAttentionArgs& a,
                                                  const TapAttentionResult& res,
                                                  const torch::Tensor& d_out,
                                                  const torch::Tensor& d_entropy) {
  const Rows r = rows_of(a);
  const auto live = r.active & (res.lse != -kInf);  // (B,H,n)
  const auto di = (d_out * res.out).sum(-1);
  const auto g_entropy = d_entropy.defined() ? d_entropy : torch::zeros_like(di);
  const auto mu = res.lse - res.entropy;
  auto dq_rows = torch::zeros_like(r.q_rows);
  TapAttentionGrads g{torch::zeros_like(a.q), torch::zeros_like(a.k), torch::zeros_like(a.v), {}};
  if (a.perturbation.defined()) g.perturbation = torch::zeros_like(a.perturbation);
  for (int64_t j = 0; j < a.k.size(2); ++j) {
    const auto [allowed, s] = key_step(a, r, j);
    const auto ok = allowed & live;
    const auto p = torch::where(ok, torch::exp(s - res.lse), torch::zeros_like(s));
    const auto v_j = a.v.select(2, j).unsqueeze(2), k_j = a.k.select(2, j).unsqueeze(2);
    const auto dp = (d_out * v_j).sum(-1);
    const auto ds =
        torch::where(ok, p * (dp - di) - g_entropy * p * (s - mu), torch::zeros_like(s));
    dq_rows = dq_rows + ds.unsqueeze(-1) * a.scale * k_j;
    g.k.select(2, j).add_((ds.unsqueeze(-1) * a.scale * r.q_rows).sum(2));
    g.v.select(2, j).add_((p.unsqueeze(-1) * d_out).sum(2));
    if (g.perturbation.defined()) g.perturbation.select(3, j).scatter_(2, r.positions, ds);
  }
  const auto index = r.positions.unsqueeze(-1).expand_as(dq_rows);
  g.q.scatter_add_(2, index, dq_rows * live.unsqueeze(-1));
  return g;
}

}  // namespace attnlab::attention::kernels
