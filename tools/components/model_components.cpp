// Recipe names of the models: `model: {name: encoder_classifier, d_model: 64, ...}`.
#include "framework/registry/components.h"
#include "models/decoder_lm.h"
#include "models/encoder_classifier.h"
#include "models/mega_encoder.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_model_components() {
  config::Schema enc("pre-norm transformer encoder + pooling + linear classifier, over any attention module");
  enc.add_int("d_model", 64, "model width").at_least(1);
  enc.add_int("layers", 2, "number of encoder blocks").at_least(1);
  enc.add_int("ff_dim", 0, "feed-forward hidden size (0: 4 * d_model)").at_least(0);
  enc.add_float("dropout", 0.1, "dropout after the embeddings, on residual branches and in the feed-forward").at_least(0).less_than(1);
  enc.add_string("pooling", "mean", "mean over non-padded tokens, or a learned CLS token").one_of({"mean", "cls"});
  enc.add_bool("learned_positions", true, "learned position embeddings (false: fixed sinusoidal positions)");
  enc.add_float("norm_eps", 1e-5, "LayerNorm epsilon").greater_than(0);
  enc.add_component("attention", "attention", "{name: mha}", "the attention module of every layer");
  registry::models().add(
      "encoder_classifier", enc.doc(), enc,
      [](const config::Section& s, const models::InputSpec& spec, const models::AttentionBuilder& attention) {
        models::EncoderClassifierOptions o;
        o.d_model = s.get_int("d_model");
        o.layers = s.get_int("layers");
        o.ff_dim = s.get_int("ff_dim");
        o.dropout = s.get_float("dropout");
        o.pooling = s.get_string("pooling");
        o.learned_positions = s.get_bool("learned_positions");
        o.norm_eps = s.get_float("norm_eps");
        return std::make_shared<models::EncoderClassifier>(o, spec, attention);
      });

  config::Schema mega("Mega LRA encoder: embedding, N x (Mega sub-layer + normalized FFN), mean pooling, classifier");
  mega.add_int("d_model", 80, "model width").at_least(1);
  mega.add_int("layers", 6, "number of Mega layers").at_least(1);
  mega.add_int("ffn_dim", 0, "normalized FFN hidden size (0: 2 * d_model)").at_least(0);
  mega.add_float("dropout", 0.1, "dropout on embeddings and the FFN output").at_least(0).less_than(1);
  mega.add_float("hidden_dropout", 0.0, "dropout inside the FFN").at_least(0).less_than(1);
  mega.add_string("norm", "layer", "normalisation of the FFN and the final norm").one_of({"layer", "scale", "rms", "batch"});
  mega.add_bool("prenorm", true, "pre-norm layers (and a final norm)");
  mega.add_int("classifier_hidden", 0,
               "hidden width of fairseq's LRA classifier: Linear + GELU, then a bias-free output layer "
               "(0: one Linear; the paper uses 2 * d_model)")
      .at_least(0);
  mega.add_component("attention", "attention", "{name: mega}", "the sequence-mixing sub-layer of every layer");
  registry::models().add(
      "mega_encoder", mega.doc(), mega,
      [](const config::Section& s, const models::InputSpec& spec, const models::AttentionBuilder& attention) {
        models::MegaEncoderOptions o;
        o.d_model = s.get_int("d_model");
        o.layers = s.get_int("layers");
        o.ffn_dim = s.get_int("ffn_dim");
        o.dropout = s.get_float("dropout");
        o.hidden_dropout = s.get_float("hidden_dropout");
        o.norm = s.get_string("norm");
        o.prenorm = s.get_bool("prenorm");
        o.classifier_hidden = s.get_int("classifier_hidden");
        return std::make_shared<models::MegaEncoder>(o, spec, attention);
      });

  config::Schema lm(
      "causal decoder language model: token embedding, N causal blocks (transformer over mha/moh, or Mega "
      "sub-layer + normalized FFN), final norm, LM head; logits for every position");
  lm.add_int("d_model", 128, "model width").at_least(1);
  lm.add_int("layers", 4, "number of blocks").at_least(1);
  lm.add_string("block", "transformer", "transformer: pre-norm attention + GELU FFN with learned positions "
                                        "(attention mha or moh); mega: the `mega` sub-layer + normalized FFN, "
                                        "no position embeddings").one_of({"transformer", "mega"});
  lm.add_int("ff_dim", 0, "feed-forward hidden size (0: 4 * d_model for transformer, 2 * d_model for mega)").at_least(0);
  lm.add_float("dropout", 0.1, "dropout on the embeddings, the residual branches and in the feed-forward").at_least(0).less_than(1);
  lm.add_float("hidden_dropout", 0.0, "mega blocks: dropout inside the normalized FFN").at_least(0).less_than(1);
  lm.add_string("norm", "layer", "mega blocks: norm of the FFN and the final norm (no batch norm: it would see "
                                 "future positions)").one_of({"layer", "scale", "rms"});
  lm.add_bool("tie_embeddings", true, "the LM head reuses the token embedding matrix");
  lm.add_float("norm_eps", 1e-5, "transformer blocks: LayerNorm epsilon").greater_than(0);
  lm.add_component("attention", "attention", "{name: mha}", "the attention module of every block (mega for block: mega)");
  registry::models().add(
      "decoder_lm", lm.doc(), lm,
      [](const config::Section& s, const models::InputSpec& spec, const models::AttentionBuilder& attention) {
        models::DecoderLMOptions o;
        o.d_model = s.get_int("d_model");
        o.layers = s.get_int("layers");
        o.block = s.get_string("block");
        o.ff_dim = s.get_int("ff_dim");
        o.dropout = s.get_float("dropout");
        o.hidden_dropout = s.get_float("hidden_dropout");
        o.norm = s.get_string("norm");
        o.tie_embeddings = s.get_bool("tie_embeddings");
        o.norm_eps = s.get_float("norm_eps");
        return std::make_shared<models::DecoderLM>(o, spec, attention);
      });
}

}  // namespace attnlab::tools
