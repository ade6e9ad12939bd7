// Recipe names of the attention modules: `model.attention: {name: mha, heads: 4, ...}`.
#include "attention/mha/mha.h"
#include "framework/registry/components.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_attention_components() {
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
