// Loop reference for multi-head attention; see mha_reference.h. Everything is copied to CPU double
// first so the loops read plain std::vector<double> and nothing depends on ATen kernels beyond the
// copy.
#include "attention/mha/mha_reference.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace attnlab::attention {
namespace {

// A row-major double copy of a CPU tensor.
std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// y[b,t,o] = sum_i W[o,i] x[b,t,i] + bias[o]; x is (B*T, D) flattened, W (D, D) out x in.
std::vector<double> linear(const std::vector<double>& x, int64_t rows, int64_t d,
                           const torch::nn::Linear& layer) {
  const auto w = to_vector(layer->weight);
  const bool has_bias = layer->bias.defined();
  const auto bias = has_bias ? to_vector(layer->bias) : std::vector<double>(d, 0.0);
  std::vector<double> y(rows * d, 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < d; ++o) {
      double acc = bias[o];
      for (int64_t i = 0; i < d; ++i) acc += w[o * d + i] * x[r * d + i];
      y[r * d + o] = acc;
    }
  }
  return y;
}

}  // namespace

torch::Tensor mha_reference(const torch::Tensor& x, const torch::Tensor& key_padding_mask,
                            bool causal, const MultiHeadAttention& module) {
  TORCH_CHECK(x.dim() == 3, "mha_reference: x must be (B, T, D)");
  const int64_t batch = x.size(0), t = x.size(1), d = x.size(2);
  const int64_t h = module.options().heads, d_h = module.head_dim();
  TORCH_CHECK(d == module.options().d_model, "mha_reference: x width != d_model");

  std::vector<bool> padded(batch * t, false);
  if (key_padding_mask.defined()) {
    const auto m = key_padding_mask.to(torch::kCPU, torch::kBool).contiguous();
    for (int64_t i = 0; i < batch * t; ++i) padded[i] = m.data_ptr<bool>()[i];
  }

  const auto xs = to_vector(x);  // (B*T, D)
  const auto q = linear(xs, batch * t, d, module.q_proj());
  const auto k = linear(xs, batch * t, d, module.k_proj());
  const auto v = linear(xs, batch * t, d, module.v_proj());
  // Head hh of position (b, i) is columns hh*d_h .. (hh+1)*d_h-1 of row b*T+i.
  const auto at = [&](const std::vector<double>& m, int64_t b, int64_t i, int64_t hh, int64_t c) {
    return m[(b * t + i) * d + hh * d_h + c];
  };

  std::vector<double> merged(batch * t * d, 0.0);  // (B*T, D), heads concatenated
  std::vector<double> score(t), weight(t);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_h));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t hh = 0; hh < h; ++hh) {
      for (int64_t i = 0; i < t; ++i) {
        std::vector<bool> visible(t);
        bool any = false;
        double max_score = -INFINITY;
        for (int64_t j = 0; j < t; ++j) {
          visible[j] = !padded[b * t + j] && !(causal && j > i);
          double s = 0.0;
          for (int64_t c = 0; c < d_h; ++c) s += at(q, b, i, hh, c) * at(k, b, j, hh, c);
          score[j] = s * scale;
          if (visible[j]) {
            any = true;
            max_score = std::max(max_score, score[j]);
          }
        }
        if (!any) continue;  // every key masked: zero weights, zero head output
        double total = 0.0;
        for (int64_t j = 0; j < t; ++j) {
          weight[j] = visible[j] ? std::exp(score[j] - max_score) : 0.0;
          total += weight[j];
        }
        for (int64_t c = 0; c < d_h; ++c) {
          double acc = 0.0;
          for (int64_t j = 0; j < t; ++j) acc += weight[j] / total * at(v, b, j, hh, c);
          merged[(b * t + i) * d + hh * d_h + c] = acc;
        }
      }
    }
  }
  const auto out = linear(merged, batch * t, d, module.out_proj());
  return torch::tensor(out, torch::kDouble).view({batch, t, d}).to(x.device(), x.scalar_type());
}

}  // namespace attnlab::attention
