// Shared builders for the attention tests: a seeded MHA module and random inputs with padding.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "attention/mha/mha.h"

namespace attnlab::testing {

// An MHA in eval mode, in `dtype`, with seeded weights and non-trivial biases.
inline std::shared_ptr<attention::MultiHeadAttention> make_mha(int64_t d_model, int64_t heads,
                                                               torch::Dtype dtype,
                                                               uint64_t seed = 0,
                                                               bool bias = true) {
  torch::manual_seed(seed);
  auto module = std::make_shared<attention::MultiHeadAttention>(
      attention::MhaOptions{d_model, heads, /*dropout=*/0.0, bias});
  module->to(dtype);
  if (bias) {
    // PyTorch initialises biases small; make them matter so the reference checks them too.
    torch::NoGradGuard no_grad;
    for (auto& p : module->named_parameters()) {
      if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.5, 0.5);
    }
  }
  module->eval();
  return module;
}

// (B, T) bool padding mask with example b having `lengths[b]` valid leading positions.
inline torch::Tensor padding_from_lengths(const std::vector<int64_t>& lengths, int64_t t) {
  auto mask = torch::zeros({static_cast<int64_t>(lengths.size()), t}, torch::kBool);
  for (size_t b = 0; b < lengths.size(); ++b) {
    mask.index_put_({static_cast<int64_t>(b), torch::indexing::Slice(lengths[b])}, true);
  }
  return mask;
}

}  // namespace attnlab::testing
