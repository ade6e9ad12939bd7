// Recipe names of the attention modules: `model.attention: {name: mha, heads: 4, ...}`.
#include "attention/mha/mha.h"
#include "attention/mega/mega_attention.h"
#include "attention/moh/moh.h"
#include "framework/registry/components.h"
#include "tools/components/components.h"

namespace attnlab::tools {
namespace {

// The per-layer value of a key that may be given for every layer (`<key>_per_layer`, as MoH's
// official configs list shared heads and top-K per layer) or once for all layers.
int64_t per_layer(const config::Section& s, const std::string& key, int layer) {
  const auto list = s.get_int_list(key + "_per_layer");
  if (list.empty()) return s.get_int(key);
  TORCH_CHECK(layer < static_cast<int>(list.size()), key, "_per_layer has ", list.size(),
              " entries but the model has more layers (layer ", layer, " needs one)");
  return list[layer];
}

void register_moh() {
  config::Schema moh(
      "Mixture-of-Head attention (Jin et al., 2024): shared heads plus top-K routed heads per token, "
      "gates on head outputs before the output projection; official code's gate constants");
  moh.add_int("heads", 8, "number of heads; must divide the model width").at_least(1);
  moh.add_int("shared_heads", 2, "heads every token uses (h_s)").at_least(0);
  moh.add_int("routed_topk", 4, "routed heads each token uses (K), of heads - shared_heads").at_least(0);
  moh.add("shared_heads_per_layer", config::Type::IntList, "[]", "h_s for each layer (overrides shared_heads)");
  moh.add("routed_topk_per_layer", config::Type::IntList, "[]", "K for each layer (overrides routed_topk)");
  moh.add_string("router", "learned", "learned (W_r, W_s, W_h) or query_norm (parameter-free, binary gates; MoH-LLaMA3)")
      .one_of({"learned", "query_norm"});
  moh.add_float("dropout", 0.0, "dropout on the attention weights").at_least(0).less_than(1);
  moh.add_bool("bias", true, "biases in the q/k/v/out projections");
  moh.add_bool("skip_unselected", false,
               "compute only the selected (token, routed head) query rows when nothing taps the scores");
  moh.add_float("balance_weight", 0.01, "weight of the load-balance loss (mean over routing layers)").at_least(0);
  registry::attention_modules().add("moh", moh.doc(), moh, [](const config::Section& s, int layer, int64_t d_model) {
    attention::MohOptions o;
    o.d_model = d_model;
    o.heads = s.get_int("heads");
    o.shared_heads = per_layer(s, "shared_heads", layer);
    o.routed_topk = per_layer(s, "routed_topk", layer);
    o.router = s.get_string("router");
    o.dropout = s.get_float("dropout");
    o.bias = s.get_bool("bias");
    o.skip_unselected = s.get_bool("skip_unselected");
    o.balance_weight = s.get_float("balance_weight");
    return std::make_shared<attention::MixtureOfHeadsAttention>(o);
  });
}

void register_mega() {
  config::Schema mega(
      "Mega's moving-average gated attention sub-layer (Ma et al., 2023): damped multi-dimensional "
      "EMA, single-head gated attention with relative position bias; holds its own residual and norm "
      "(use it in mega_encoder)");
  mega.add_int("z_dim", 64, "shared query/key dimension").at_least(1);
  mega.add_int("v_dim", 0, "value (hidden) dimension (0: 2 * d_model)").at_least(0);
  mega.add_int("ema_dim", 16, "EMA dimensions per channel").at_least(1);
  mega.add_bool("bidirectional", true, "two EMA kernels, forward and backward (a causal call uses the forward one)");
  mega.add_int("truncation", 0, "EMA kernel length (0: the whole sequence)").at_least(0);
  mega.add_string("attention_fn", "softmax", "attention function").one_of({"softmax", "laplace", "relu2"});
  mega.add_string("rel_pos", "simple", "relative position bias").one_of({"simple", "rotary"});
  mega.add_int("max_positions", 1024, "longest sequence (or chunk) the position bias covers").at_least(1);
  mega.add_int("chunk_size", -1, "Mega-chunk: attend within chunks of this size (-1: full attention)");
  mega.add_float("dropout", 0.0, "dropout on the sub-layer output").at_least(0).less_than(1);
  mega.add_float("attention_dropout", 0.0, "dropout on the attention weights").at_least(0).less_than(1);
  mega.add_float("hidden_dropout", 0.0, "dropout on the hidden (value) activations").at_least(0).less_than(1);
  mega.add_string("norm", "layer", "normalisation").one_of({"layer", "scale", "rms", "batch"});
  mega.add_bool("prenorm", true, "normalise before (true) or after (false) the sub-layer");
  registry::attention_modules().add("mega", mega.doc(), mega, [](const config::Section& s, int, int64_t d_model) {
    attention::MegaOptions o;
    o.d_model = d_model;
    o.z_dim = s.get_int("z_dim");
    o.v_dim = s.get_int("v_dim");
    o.ema_dim = s.get_int("ema_dim");
    o.bidirectional = s.get_bool("bidirectional");
    o.truncation = s.get_int("truncation");
    o.attention_fn = s.get_string("attention_fn");
    o.rel_pos = s.get_string("rel_pos");
    o.max_positions = s.get_int("max_positions");
    o.chunk_size = s.get_int("chunk_size");
    o.dropout = s.get_float("dropout");
    o.attention_dropout = s.get_float("attention_dropout");
    o.hidden_dropout = s.get_float("hidden_dropout");
    o.norm = s.get_string("norm");
    o.prenorm = s.get_bool("prenorm");
    return std::make_shared<attention::MegaAttention>(o);
  });
}

}  // namespace

void register_attention_components() {
  register_moh();
  register_mega();
  config::Schema mha("standard multi-head scaled dot-product attention (Vaswani et al., 2017)");
  mha.add_int("heads", 4, "number of heads; must divide the model width").at_least(1);
  mha.add_float("dropout", 0.0, "dropout on the attention weights").at_least(0).less_than(1);
  mha.add_bool("bias", true, "biases in the q/k/v/out projections");
  registry::attention_modules().add(
      "mha", mha.doc(), mha, [](const config::Section& s, int /*layer*/, int64_t d_model) {
        attention::MhaOptions o;
        o.d_model = d_model;
        o.heads = s.get_int("heads");
        o.dropout = s.get_float("dropout");
        o.bias = s.get_bool("bias");
        return std::make_shared<attention::MultiHeadAttention>(o);
      });
}

}  // namespace attnlab::tools
