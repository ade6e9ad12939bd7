// One pre-norm transformer encoder block (the "pre-LN" layout of Xiong et al. 2020, used by ViT):
//   x = x + Dropout(Attn(LN1(x)))
//   x = x + Dropout(FF(LN2(x))),   FF = Linear(D, F) -> GELU -> Dropout -> Linear(F, D)
// x (B, T, D); key padding mask (B, T) bool, true = padding, or undefined. The attention module is
// any AttentionModule, given by the caller. Parameter names: attn.*, norm1, norm2, ff_in, ff_out.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/attention.h"

namespace attnlab::models {

struct EncoderBlockOptions {
  int64_t d_model = 64;
  int64_t ff_dim = 256;
  double dropout = 0.1;  // on both residual branches and inside the feed-forward
  double norm_eps = 1e-5;
};

class EncoderBlockImpl : public torch::nn::Module {
 public:
  EncoderBlockImpl(const EncoderBlockOptions& options, attention::AttentionPtr attn);

  // Returns the new x (B, T, D); appends the attention module's auxiliary losses to `aux`.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_padding_mask, bool causal,
                        attention::ForwardContext& ctx, const std::string& site,
                        std::vector<attention::AuxLoss>& aux);

  const attention::AttentionPtr& attn() const { return attn_; }

 private:
  attention::AttentionPtr attn_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear ff_in_{nullptr}, ff_out_{nullptr};
  double dropout_ = 0.0;  // kernels::dropout on both residual branches and inside the FFN
};
TORCH_MODULE(EncoderBlock);

}  // namespace attnlab::models
