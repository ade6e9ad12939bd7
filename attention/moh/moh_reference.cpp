// Loop reference for MoH; see moh_reference.h. Everything is copied to CPU double first so the
// loops read plain std::vector<double>.
#include "attention/moh/moh_reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace attnlab::attention {
namespace {

using Vec = std::vector<double>;

Vec to_vector(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return Vec(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// y[r, o] = sum_i W[o, i] x[r, i] (+ bias[o]); x is (rows, in), W (out, in).
Vec linear(const Vec& x, int64_t rows, const torch::nn::Linear& layer) {
  const int64_t out = layer->weight.size(0), in = layer->weight.size(1);
  const auto w = to_vector(layer->weight);
  const auto bias = layer->bias.defined() ? to_vector(layer->bias) : Vec(out, 0.0);
  Vec y(rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = bias[o];
      for (int64_t i = 0; i < in; ++i) acc += w[o * in + i] * x[r * in + i];
      y[r * out + o] = acc;
    }
  }
  return y;
}

Vec softmax(const Vec& z) {
  const double top = *std::max_element(z.begin(), z.end());
  Vec p(z.size());
  double total = 0.0;
  for (size_t i = 0; i < z.size(); ++i) total += (p[i] = std::exp(z[i] - top));
  for (double& v : p) v /= total;
  return p;
}

// 0/1 indicator of the k largest entries; ties go to the lower index.
std::vector<bool> top_k(const Vec& p, int64_t k) {
  std::vector<int64_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  std::vector<bool> chosen(p.size(), false);
  for (int64_t i = 0; i < k; ++i) chosen[order[i]] = true;
  return chosen;
}

struct TokenRouting {
  Vec gates;                 // (H)
  Vec probs;                 // (h_r) routed probabilities (learned router)
  std::vector<bool> chosen;  // (h_r)
};

// Routing of every token, row r = b * T + t.
std::vector<TokenRouting> route(const torch::Tensor& x, const MixtureOfHeadsAttention& m) {
  const auto& o = m.options();
  const int64_t rows = x.size(0) * x.size(1), d = o.d_model, h = o.heads, h_s = o.shared_heads;
  const int64_t h_r = h - h_s, k = o.routed_topk, d_h = m.head_dim();
  const auto xs = to_vector(x);
  std::vector<TokenRouting> result(rows);
  if (o.router == "query_norm") {
    const auto q = linear(xs, rows, m.q_proj());  // (rows, D)
    for (int64_t r = 0; r < rows; ++r) {
      Vec logits(h_r);
      for (int64_t i = 0; i < h_r; ++i) {
        double sq = 0.0;
        for (int64_t c = 0; c < d_h; ++c) sq += std::pow(q[r * d + (h_s + i) * d_h + c], 2);
        logits[i] = std::sqrt(sq);
      }
      if (h_r > 1) {
        const double mean = std::accumulate(logits.begin(), logits.end(), 0.0) / h_r;
        double var = 0.0;
        for (double l : logits) var += (l - mean) * (l - mean);
        const double sd = std::sqrt(var / static_cast<double>(h_r - 1));
        for (double& l : logits) l /= sd;
      }
      auto& tr = result[r];
      tr.probs = h_r > 0 ? softmax(logits) : Vec{};
      tr.chosen = top_k(tr.probs, k);
      tr.gates.assign(h, 1.0);
      for (int64_t i = 0; i < h_r; ++i) tr.gates[h_s + i] = tr.chosen[i] ? 1.0 : 0.0;
    }
    return result;
  }
  const auto shared_logits = h_s > 1 ? linear(xs, rows, m.wg_1()) : Vec{};
  const auto routed_logits = k > 0 ? linear(xs, rows, m.wg()) : Vec{};
  const auto alpha_logits = (k > 0 && h_s > 0) ? linear(xs, rows, m.wg_0()) : Vec{};
  for (int64_t r = 0; r < rows; ++r) {
    auto& tr = result[r];
    tr.gates.assign(h, 0.0);
    Vec shared(h_s, 1.0);
    if (h_s > 1) {
      shared = softmax(Vec(shared_logits.begin() + r * h_s, shared_logits.begin() + (r + 1) * h_s));
      for (double& g : shared) g *= static_cast<double>(h_s);
    }
    Vec routed(h_r, 0.0);
    double a1 = 1.0, a2 = 1.0;
    if (k > 0) {
      tr.probs =
          softmax(Vec(routed_logits.begin() + r * h_r, routed_logits.begin() + (r + 1) * h_r));
      tr.chosen = top_k(tr.probs, k);
      double kept = 0.0;
      for (int64_t i = 0; i < h_r; ++i) kept += tr.chosen[i] ? tr.probs[i] : 0.0;
      for (int64_t i = 0; i < h_r; ++i) routed[i] = tr.chosen[i] ? tr.probs[i] / kept * k : 0.0;
      if (h_s > 0) {
        const auto alpha = softmax({alpha_logits[r * 2], alpha_logits[r * 2 + 1]});
        a1 = 2.0 * alpha[0];
        a2 = 2.0 * alpha[1];
      }
    }
    for (int64_t i = 0; i < h_s; ++i) tr.gates[i] = a1 * shared[i];
    for (int64_t i = 0; i < h_r; ++i) tr.gates[h_s + i] = a2 * routed[i];
  }
  return result;
}

std::vector<bool> padding(const torch::Tensor& mask, int64_t n) {
  std::vector<bool> padded(n, false);
  if (!mask.defined()) return padded;
  const auto m = mask.to(torch::kCPU, torch::kBool).contiguous();
  for (int64_t i = 0; i < n; ++i) padded[i] = m.data_ptr<bool>()[i];
  return padded;
}

}  // namespace

torch::Tensor moh_reference_gates(const torch::Tensor& x, const MixtureOfHeadsAttention& module) {
  TORCH_CHECK(x.dim() == 3, "moh_reference: x must be (B, T, D)");
  const auto routing = route(x, module);
  Vec gates;
  for (const auto& tr : routing) gates.insert(gates.end(), tr.gates.begin(), tr.gates.end());
  return torch::tensor(gates, torch::kDouble).view({x.size(0), x.size(1), module.options().heads});
}

double moh_reference_balance(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                             const MixtureOfHeadsAttention& module) {
  const int64_t rows = x.size(0) * x.size(1), h_r = module.routed_heads();
  const auto routing = route(x, module);
  const auto padded = padding(key_padding_mask, rows);
  Vec mean_prob(h_r, 0.0), fraction(h_r, 0.0);
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (padded[r]) continue;
    ++count;
    for (int64_t i = 0; i < h_r; ++i) {
      mean_prob[i] += routing[r].probs[i];
      fraction[i] += routing[r].chosen[i] ? 1.0 : 0.0;
    }
  }
  if (count == 0) return 0.0;
  double total = 0.0;
  for (int64_t i = 0; i < h_r; ++i) total += (mean_prob[i] / count) * (fraction[i] / count);
  return static_cast<double>(h_r) * total;
}

torch::Tensor moh_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                            bool causal, const MixtureOfHeadsAttention& module) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == module.options().d_model,
              "moh_reference: x must be (B, T, d_model)");
  const int64_t batch = x.size(0), t = x.size(1), d = x.size(2);
  const int64_t h = module.options().heads, d_h = module.head_dim();
  const auto padded = padding(key_padding_mask, batch * t);
  const auto routing = route(x, module);

  const auto xs = to_vector(x);  // (B*T, D)
  const auto q = linear(xs, batch * t, module.q_proj());
  const auto k = linear(xs, batch * t, module.k_proj());
  const auto v = linear(xs, batch * t, module.v_proj());
  // Head hh of position (b, i) is columns hh*d_h .. (hh+1)*d_h-1 of row b*T+i.
  const auto at = [&](const Vec& m, int64_t b, int64_t i, int64_t hh, int64_t c) {
    return m[(b * t + i) * d + hh * d_h + c];
  };
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_h));
  Vec merged(batch * t * d, 0.0);  // (B*T, D), gated heads concatenated
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < t; ++i) {
      for (int64_t hh = 0; hh < h; ++hh) {
        const double gate = routing[b * t + i].gates[hh];
        Vec score(t, -INFINITY);
        double top = -INFINITY;
        for (int64_t j = 0; j < t; ++j) {
          if (padded[b * t + j] || (causal && j > i)) continue;
          double s = 0.0;
          for (int64_t c = 0; c < d_h; ++c) s += at(q, b, i, hh, c) * at(k, b, j, hh, c);
          score[j] = s * scale;
          top = std::max(top, score[j]);
        }
        if (top == -INFINITY) continue;  // every key masked: zero head output
        double total = 0.0;
        for (int64_t j = 0; j < t; ++j) total += std::exp(score[j] - top);
        for (int64_t c = 0; c < d_h; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < t; ++j)
            acc += std::exp(score[j] - top) / total * at(v, b, j, hh, c);
          merged[(b * t + i) * d + hh * d_h + c] = gate * acc;
        }
      }
    }
  }
  const auto out = linear(merged, batch * t, module.out_proj());
  return torch::tensor(out, torch::kDouble).view({batch, t, d}).to(x.device(), x.scalar_type());
}

}  // namespace attnlab::attention
