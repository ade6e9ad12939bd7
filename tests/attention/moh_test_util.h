// Shared builders for the MoH tests: seeded modules with decisive routers, MHA twins with the same
// projection weights, and small comparison helpers.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "attention/mha/mha.h"
#include "attention/moh/moh.h"

namespace attnlab::testing {

// Options with the fields tests vary most; the rest keep their defaults.
inline attention::MohOptions moh_options(int64_t d_model, int64_t heads, int64_t shared,
                                         int64_t topk, const std::string& router = "learned") {
  attention::MohOptions o;
  o.d_model = d_model;
  o.heads = heads;
  o.shared_heads = shared;
  o.routed_topk = topk;
  o.router = router;
  return o;
}

// An MoH in eval mode, in `dtype`, with seeded weights, non-trivial biases and router weights
// scaled up so that gates differ clearly from 1 and top-K choices are far from ties.
inline std::shared_ptr<attention::MixtureOfHeadsAttention> make_moh(
    const attention::MohOptions& options, torch::Dtype dtype, uint64_t seed = 0) {
  torch::manual_seed(seed);
  auto module = std::make_shared<attention::MixtureOfHeadsAttention>(options);
  module->to(dtype);
  torch::NoGradGuard no_grad;
  for (auto& p : module->named_parameters()) {
    if (p.key().find("bias") != std::string::npos) p.value().uniform_(-0.5, 0.5);
    if (p.key().rfind("wg", 0) == 0) p.value().mul_(4.0);
  }
  module->eval();
  return module;
}

// An MHA (eval) whose q/k/v/out weights are copies of `moh`'s.
inline std::shared_ptr<attention::MultiHeadAttention> mha_twin(
    const attention::MixtureOfHeadsAttention& moh) {
  const auto& o = moh.options();
  auto mha = std::make_shared<attention::MultiHeadAttention>(
      attention::MhaOptions{o.d_model, o.heads, o.dropout, o.bias});
  mha->to(moh.q_proj()->weight.scalar_type());
  torch::NoGradGuard no_grad;
  const auto mp = moh.named_parameters();
  for (auto& p : mha->named_parameters()) p.value().copy_(mp[p.key()]);
  mha->eval();
  return mha;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Zeroes a router layer if the module has it.
inline void zero_router(const torch::nn::Linear& layer) {
  if (layer.is_empty()) return;
  torch::NoGradGuard no_grad;
  layer->weight.zero_();
}

}  // namespace attnlab::testing
