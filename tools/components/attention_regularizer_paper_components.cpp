// Recipe names of the components the attention-regularizer papers need: the BiLSTM + attention
// pooling classifier (`model: {name: bilstm_attention, ...}`) and the synthetic evidence text
// dataset (`data: {name: evidence_text, ...}`).
#include "datasets/evidence_text.h"
#include "framework/registry/components.h"
#include "models/bilstm_attention.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_attention_regularizer_paper_components() {
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

  config::Schema e("synthetic evidence text: planted class-evidence words among distractors, with the rationale kept");
  e.add_int("train_size", 2000, "training examples").at_least(1);
  e.add_int("val_size", 500, "validation examples").at_least(1);
  e.add_int("test_size", 500, "test examples").at_least(1);
  e.add_int("num_classes", 2, "classes").at_least(2);
  e.add_int("evidence_tokens", 5, "evidence words per class").at_least(1);
  e.add_int("distractors", 200, "distractor words").at_least(1);
  e.add_int("min_length", 20, "shortest sentence").at_least(1);
  e.add_int("max_length", 60, "longest sentence (the batch width)").at_least(1);
  e.add_int("min_evidence", 1, "fewest evidence words of the label's class").at_least(1);
  e.add_int("max_evidence", 3, "most evidence words of the label's class").at_least(1);
  e.add_float("counter_evidence", 0.3, "probability of fewer evidence words of another class").at_least(0).at_most(1);
  e.add_int("seed", 0, "generation seed").at_least(0);
  registry::datasets().add("evidence_text", e.doc(), e, [](const config::Section& c) {
    datasets::EvidenceTextOptions o;
    o.train_size = c.get_int("train_size");
    o.val_size = c.get_int("val_size");
    o.test_size = c.get_int("test_size");
    o.num_classes = c.get_int("num_classes");
    o.evidence_tokens = c.get_int("evidence_tokens");
    o.distractors = c.get_int("distractors");
    o.min_length = c.get_int("min_length");
    o.max_length = c.get_int("max_length");
    o.min_evidence = c.get_int("min_evidence");
    o.max_evidence = c.get_int("max_evidence");
    o.counter_evidence = c.get_float("counter_evidence");
    o.seed = static_cast<uint64_t>(c.get_int("seed"));
    return std::make_shared<datasets::EvidenceTextDataset>(o);
  });
}

}  // namespace attnlab::tools
