// Autoregressive generation from a trained language model (for `attnlab generate`): each step runs
// the model on the last `context` tokens (a full recompute, no key/value or EMA state is cached),
// takes the logits of the last position and picks the next token:
//   greedy: argmax;  sampled: softmax(logits / temperature) over the top_k largest (0: all),
//   drawn with a torch CPU generator seeded by `seed`, so the same seed gives the same tokens.
// The pad token is never picked.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "models/model.h"

namespace attnlab::tools {

struct GenerationOptions {
  int64_t max_new_tokens = 200;
  double temperature = 1.0;  // > 0; sampled only
  int64_t top_k = 0;         // 0: every token; sampled only
  bool greedy = false;
  uint64_t seed = 0;
};

// The next token id from logits (V) of one position. `generator` is used when sampling.
int64_t pick_next_token(const torch::Tensor& logits, int64_t pad_id, const GenerationOptions& options,
                        at::Generator& generator);

// The max_new_tokens ids that follow `prompt` (non-empty). `context` is the longest input the model
// takes (the data's seq_len). The model should be in eval mode.
std::vector<int64_t> generate_tokens(models::Model& model, const std::vector<int64_t>& prompt, int64_t context,
                                     int64_t pad_id, const GenerationOptions& options);

}  // namespace attnlab::tools
