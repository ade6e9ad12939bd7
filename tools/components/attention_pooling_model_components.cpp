// Recipe names of the attention-pooling classifiers the attention-regularizer papers train:
// `model: {name: bilstm_attention, score: additive, ...}`.
#include "framework/registry/components.h"
#include "models/bilstm_attention.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_attention_pooling_model_components() {
  config::Schema s("BiLSTM + additive (tanh) or dot attention pooling + linear classifier (Jain & Wallace; the AT/VAT papers' model)");
  s.add_int("embed_dim", 300, "word embedding size").at_least(1);
  s.add_int("hidden", 128, "LSTM hidden size per direction").at_least(1);
  s.add_string("score", "additive", "attention score: additive v^T tanh(W h + b), or dot w^T h / sqrt(D)")
      .one_of({"additive", "dot"});
  s.add_int("attention_dim", 128, "hidden size of the additive score").at_least(1);
  s.add_float("dropout", 0.0, "dropout on embeddings and the pooled vector (the reference has none)").at_least(0).less_than(1);
  registry::models().add(
      "bilstm_attention", s.doc(), s,
      [](const config::Section& c, const models::InputSpec& spec, const models::AttentionBuilder&) {
        models::BiLstmAttentionOptions o;
        o.embed_dim = c.get_int("embed_dim");
        o.hidden = c.get_int("hidden");
        o.score = c.get_string("score");
        o.attention_dim = c.get_int("attention_dim");
        o.dropout = c.get_float("dropout");
        return std::make_shared<models::BiLstmAttention>(o, spec);
      });
}

}  // namespace attnlab::tools
