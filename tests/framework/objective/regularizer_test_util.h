// Small float64 classifiers over mha, moh or mega (no dropout, so extra forwards are deterministic)
// and a padded token batch, for the attention-regularizer property tests.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "attention/mega/mega_attention.h"
#include "attention/mha/mha.h"
#include "attention/moh/moh.h"
#include "framework/objective/objective.h"
#include "models/bilstm_attention.h"
#include "models/encoder_classifier.h"
#include "models/mega_encoder.h"

namespace attnlab::objective::testing {

inline models::InputSpec token_spec() {
  models::InputSpec s;
  s.num_classes = 3;
  s.vocab_size = 20;
  s.max_length = 12;
  s.pad_id = 0;
  return s;
}

// kind: mha | moh | mega (two layers, width 16) | bilstm (additive pooling); float64.
inline models::ModelPtr tiny_model(const std::string& kind, uint64_t seed = 0) {
  torch::manual_seed(seed);
  models::ModelPtr model;
  if (kind == "bilstm") {
    models::BiLstmAttentionOptions o;
    o.embed_dim = 8;
    o.hidden = 6;
    o.attention_dim = 5;
    model = std::make_shared<models::BiLstmAttention>(o, token_spec());
  } else if (kind == "mega") {
    models::MegaEncoderOptions o;
    o.d_model = 16;
    o.layers = 2;
    o.dropout = 0.0;
    model = std::make_shared<models::MegaEncoder>(o, token_spec(), [](int, int64_t d) {
      attention::MegaOptions m;
      m.d_model = d;
      m.z_dim = 8;
      m.ema_dim = 4;
      m.max_positions = 12;
      return std::make_shared<attention::MegaAttention>(m);
    });
  } else {
    models::EncoderClassifierOptions o;
    o.d_model = 16;
    o.layers = 2;
    o.dropout = 0.0;
    model = std::make_shared<models::EncoderClassifier>(o, token_spec(), [kind](int, int64_t d) -> attention::AttentionPtr {
      if (kind == "moh") {
        attention::MohOptions m;
        m.d_model = d;
        m.heads = 4;
        m.shared_heads = 1;
        m.routed_topk = 2;
        return std::make_shared<attention::MixtureOfHeadsAttention>(m);
      }
      attention::MhaOptions m;
      m.d_model = d;
      m.heads = 2;
      return std::make_shared<attention::MultiHeadAttention>(m);
    });
  }
  model->to(torch::kDouble);
  model->train();
  return model;
}

// Tokens (B, T) with the given real lengths, padded with 0 to t.
inline models::ModelInput padded_batch(const std::vector<int64_t>& lengths, int64_t t, uint64_t seed = 1) {
  torch::manual_seed(seed);
  const auto b = static_cast<int64_t>(lengths.size());
  auto tokens = torch::randint(1, 20, {b, t}, torch::kLong);
  auto mask = torch::zeros({b, t}, torch::kBool);
  for (int64_t i = 0; i < b; ++i) mask[i].narrow(0, lengths[i], t - lengths[i]).fill_(true);
  tokens = tokens.masked_fill(mask, 0);
  return {tokens, mask};
}

// The clean forward as the trainer runs it: scores, weights and embeddings recorded.
struct CleanForward {
  attention::ForwardContext ctx;
  models::ModelOutput out;
  torch::Tensor loss;
};

inline std::unique_ptr<CleanForward> clean_forward(models::Model& model, const models::ModelInput& in,
                                                   const torch::Tensor& labels) {
  auto c = std::make_unique<CleanForward>();
  c->ctx.set_record_scores(true);
  c->ctx.set_record_weights(true);
  c->ctx.set_record_embeddings(true);
  c->out = model.forward(in, c->ctx);
  c->loss = torch::nn::functional::cross_entropy(c->out.logits, labels);
  return c;
}

inline RegularizerInputs inputs_for(models::Model& model, const models::ModelInput& in, const torch::Tensor& labels,
                                    const CleanForward& c, double weight = 1.0) {
  return RegularizerInputs{model, in, labels, c.out, c.ctx, c.loss, 0,
                           [labels](const torch::Tensor& logits) {
                             return torch::nn::functional::cross_entropy(logits, labels);
                           },
                           weight};
}

// Gradients of the model's parameters, cloned (undefined ones as zeros).
inline std::vector<torch::Tensor> parameter_grads(models::Model& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.parameters())
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return out;
}

inline void drop_grads(models::Model& model) {
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace attnlab::objective::testing
