// Mega's sequence norms (fairseq `SequenceNorm`, notes §2.3), one interface for four kinds,
// applied to x (B, T, D) with an optional key padding mask (B, T) bool, true = padding:
//   layer: (x - mean_D(x)) / sqrt(var_D(x) + eps) * weight + bias        per token, over D
//   scale: scalar * x / sqrt(mean_D(x^2) + eps)                         per token, one scalar g
//   rms:   weight * x / sqrt(mean_D(x^2) + eps)                         per token, weight (D)
//   batch: (x - mu_d) / sqrt(var_d + eps) * weight + bias               mu, var per channel d over
//          the NON-PADDED tokens of the batch in training mode (fairseq's BatchNorm1d counts
//          padding too; here padding never moves the statistics), running estimates in eval mode.
// eps = 1e-5 for all kinds (what SequenceNorm passes). Parameters (fairseq names):
//   layer: weight (D) = 1, bias (D) = 0;  scale: scalar (1) = 1;  rms: weight (D) = 1;
//   batch: weight (D) = 1, bias (D) = 0, buffers running_mean (D) = 0, running_var (D) = 1.
#pragma once

#include <torch/torch.h>

#include <string>

namespace attnlab::attention {

class SequenceNormImpl : public torch::nn::Module {
 public:
  // kind: "layer" | "scale" | "rms" | "batch"; anything else is a c10::Error naming the choices.
  SequenceNormImpl(const std::string& kind, int64_t dim, double eps = 1e-5, double momentum = 0.1);

  // x (B, T, D) -> (B, T, D). The mask only matters for "batch" (training-mode statistics); the
  // per-token norms normalise padded tokens too, which is harmless: nothing reads them.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask = {});

  const std::string& kind() const { return kind_; }
  double eps() const { return eps_; }

 private:
  torch::Tensor batch_norm(const torch::Tensor& x, const torch::Tensor& key_padding_mask);

  std::string kind_;
  int64_t dim_;
  double eps_;
  double momentum_;
  torch::Tensor weight_, bias_, scalar_, running_mean_, running_var_;
};
TORCH_MODULE(SequenceNorm);

// True for the kinds SequenceNorm accepts; lets option checks fail early with the caller's name.
bool is_sequence_norm_kind(const std::string& kind);

}  // namespace attnlab::attention
