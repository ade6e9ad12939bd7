// Attention-score perturbation and attention entropy math.
#include "attention/regularizers/perturbation.h"

#include <cmath>
#include <vector>

namespace attnlab::attention {
namespace {

// The key padding mask (N, Tk) shaped to broadcast against a (N, ..., Tk) tensor.
torch::Tensor keys_like(const torch::Tensor& key_padding_mask, const torch::Tensor& t) {
  TORCH_CHECK(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == t.size(0) &&
                  key_padding_mask.size(1) == t.size(-1),
              "key padding mask ", key_padding_mask.sizes(), " does not match attention tensor ", t.sizes());
  std::vector<int64_t> shape(t.dim(), 1);
  shape.front() = t.size(0);
  shape.back() = t.size(-1);
  return key_padding_mask.reshape(shape);
}

}  // namespace

torch::Tensor zero_padded_keys(const torch::Tensor& t, const torch::Tensor& key_padding_mask) {
  if (!key_padding_mask.defined()) return t;
  return t.masked_fill(keys_like(key_padding_mask, t), 0.0);
}

torch::Tensor normalize_per_example(const torch::Tensor& t) {
  const auto flat = t.reshape({t.size(0), -1});
  const auto norms = flat.norm(2, 1, /*keepdim=*/true);
  // No epsilon floor (F.normalize's 1e-12 would leave tiny gradients, such as VAT's at a small xi
  // or a deep site's at initialisation, short of norm 1); only an exactly-zero row stays zero.
  const auto safe = torch::where(norms > 0, norms, torch::ones_like(norms));
  return torch::where(norms > 0, flat / safe, torch::zeros_like(flat)).reshape(t.sizes());
}

torch::Tensor iat_direction(const torch::Tensor& grad, const torch::Tensor& scores, const std::string& mode) {
  if (mode == "code_negated_grad") return -grad;
  TORCH_CHECK(mode == "iadvt_batch_dirs_norm_j" || mode == "iadvt_batch_dirs_norm_T", "unknown iAT mode '",
              mode, "'");
  const int64_t n = scores.size(0);
  if (n < 2) return grad;  // no batch-mates: no difference directions, fall back to AT
  const auto s = scores.detach().reshape({n, -1});
  // One example at a time, so memory stays O(n * entries) rather than O(n^2 * entries).
  std::vector<torch::Tensor> weights;
  for (int64_t i = 0; i < n; ++i) {
    const auto diff = s[i].unsqueeze(0) - s;  // (partners j, entries)
    // F.normalize over the partner j (the code's dim=1) or over the entries of each pair (tokens).
    const int64_t dim = mode == "iadvt_batch_dirs_norm_j" ? 0 : 1;
    const auto dir = diff / diff.norm(2, dim, /*keepdim=*/true).clamp_min(1e-12);
    weights.push_back(dir.pow(2).sum(0));  // sum over partners of dir_ij^2
  }
  return torch::stack(weights).reshape(grad.sizes()).to(grad.scalar_type()) * grad;
}

RowEntropy raw_row_entropy(const torch::Tensor& weights, const torch::Tensor& key_padding_mask) {
  TORCH_CHECK(weights.dim() == 4, "attention entropy needs weights (N, H, Tq, Tk); got ", weights.sizes());
  auto a = key_padding_mask.defined() ? zero_padded_keys(weights, key_padding_mask) : weights;
  const auto mass = a.sum(-1, /*keepdim=*/true);
  a = a / mass.clamp_min(1e-30);
  // a log a with a = 0 -> 0: the log is taken of a value clamped away from 0 and multiplied by a,
  // whose gradient there is what the masked softmax gives (0), so no NaN reaches the parameters.
  return {-(a * a.clamp_min(1e-30).log()).sum(-1), mass.squeeze(-1) > 0};  // (N, H, Tq) each
}

std::pair<torch::Tensor, torch::Tensor> finish_row_entropy(const RowEntropy& raw,
                                                           const torch::Tensor& key_padding_mask,
                                                           int64_t keys, bool self_attention,
                                                           bool normalized) {
  auto entropy = raw.entropy;
  auto valid = raw.has_mass;
  if (key_padding_mask.defined() && self_attention) {
    valid = valid & (~key_padding_mask).unsqueeze(1);  // self-attention: padded queries are not rows
  }
  if (normalized) {
    const auto n_keys = key_padding_mask.defined()
                            ? (~key_padding_mask).sum(1).to(entropy.scalar_type())
                            : torch::full({entropy.size(0)}, static_cast<double>(keys), entropy.options());
    const auto log_n = n_keys.log().reshape({-1, 1, 1});
    entropy = torch::where(log_n > 0, entropy / log_n.clamp_min(1e-30), torch::zeros_like(entropy));
  }
  return {entropy, valid};
}

std::pair<torch::Tensor, torch::Tensor> attention_row_entropy(const torch::Tensor& weights,
                                                              const torch::Tensor& key_padding_mask,
                                                              bool normalized) {
  return finish_row_entropy(raw_row_entropy(weights, key_padding_mask), key_padding_mask,
                            weights.size(3), weights.size(2) == weights.size(3), normalized);
}

}  // namespace attnlab::attention
