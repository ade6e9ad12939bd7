// The attention interface (DESIGN.md §3): every mechanism maps x (B, T, D) to (B, T, D), given an
// optional key padding mask and a causal flag, and may return auxiliary losses (e.g. MoH's
// load-balance loss). Pre-softmax scores and normalised weights pass through the ForwardContext
// so regularizers and metrics can tap any module without the module knowing of them.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "attention/context.h"

namespace attnlab::attention {

// A named auxiliary loss with the coefficient the module wants it weighted by in the objective.
struct AuxLoss {
  std::string name;      // e.g. "moh_balance"
  torch::Tensor value;   // scalar
  double weight = 1.0;
};

struct AttentionOutput {
  torch::Tensor out;             // (B, T, D)
  std::vector<AuxLoss> aux_losses;
};

// Arguments of one attention call.
struct AttentionCall {
  torch::Tensor x;                 // (B, T, D)
  torch::Tensor key_padding_mask;  // (B, T) bool, true = padding; may be undefined (no padding)
  bool causal = false;             // position t attends to positions <= t only
};

// The shared interface. Implementations are ordinary torch::nn::Modules; no logic lives here.
class AttentionModule : public torch::nn::Module {
 public:
  // `site` identifies this attention site to the context (e.g. "layer0"); the module may derive
  // sub-sites from it. `ctx` sees the pre-softmax scores and the normalised weights.
  virtual AttentionOutput forward(const AttentionCall& call, ForwardContext& ctx,
                                  const std::string& site) = 0;
};

using AttentionPtr = std::shared_ptr<AttentionModule>;

}  // namespace attnlab::attention
