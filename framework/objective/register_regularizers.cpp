// Recipe names of the attention regularizers (objective.regularizers entries). They act through
// the forward context only, so each works with every attention module (mha, moh, mega, ...).
#include "framework/objective/register_regularizers.h"

#include "framework/objective/attention_adversarial.h"
#include "framework/objective/attention_entropy.h"
#include "framework/objective/attention_vat.h"
#include "framework/objective/objective.h"
#include "framework/registry/components.h"

namespace attnlab::objective {
namespace {

void add_sites_key(config::Schema& s, const std::string& target = "scores") {
  s.add("sites", config::Type::StringList, "[]",
        target == "scores" ? "attention sites to act on (e.g. [layer0]); []: every site"
                           : "embedding sites to act on (e.g. [embed]); []: every one");
}

void add_iat_mode_key(config::Schema& s) {
  s.add_string("mode", "code_negated_grad",
               "code_negated_grad: the released code (-AT); iadvt_batch_dirs_norm_j / _norm_T: the "
               "paper's iAdvT construction with batch directions normalised over partners / tokens")
      .one_of({"code_negated_grad", "iadvt_batch_dirs_norm_j", "iadvt_batch_dirs_norm_T"});
}

// attention_<method> on the scores, or word_<method> on the embeddings (the papers' baselines).
void register_adversarial(const std::string& method, const std::string& target, const std::string& doc) {
  config::Schema s(doc);
  add_weight_keys(s, 1.0);
  s.add_float("epsilon", 1.0, "L2 norm of the perturbation per example and site").at_least(0);
  if (method == "iat") add_iat_mode_key(s);
  if (method != "rp") {
    s.add_bool("replicate_ref_double_grad", false,
               "reproduce the released code's bug of back-propagating the clean loss twice");
  }
  add_sites_key(s, target);
  const std::string name = (target == "scores" ? "attention_" : "word_") + method;
  registry::regularizers().add(name, doc, s, [method, target](const config::Section& c) {
    AdversarialAttentionOptions o;
    o.method = method;
    o.target = target;
    o.epsilon = c.get_float("epsilon");
    if (method == "iat") o.iat_mode = c.get_string("mode");
    if (method != "rp") o.replicate_ref_double_grad = c.get_bool("replicate_ref_double_grad");
    o.sites = c.get_string_list("sites");
    return std::make_shared<AdversarialAttention>(o);
  });
}


void register_virtual_adversarial(const std::string& name, const std::string& target, bool interpretable,
                                  const std::string& doc) {
  config::Schema vat(doc);
  add_weight_keys(vat, 1.0);
  vat.add_float("epsilon", 1.0, "L2 norm of the perturbation per example and site").at_least(0);
  vat.add_float("xi", 0.1, "finite-difference step of the power iteration").greater_than(0);
  vat.add_int("power_iterations", 1, "power-iteration steps K").at_least(0);
  if (interpretable) add_iat_mode_key(vat);
  add_sites_key(vat, target);
  registry::regularizers().add(name, vat.doc(), vat, [target, interpretable](const config::Section& c) {
    VirtualAdversarialAttentionOptions o;
    o.epsilon = c.get_float("epsilon");
    o.xi = c.get_float("xi");
    o.power_iterations = c.get_int("power_iterations");
    o.interpretable = interpretable;
    if (interpretable) o.iat_mode = c.get_string("mode");
    o.target = target;
    o.sites = c.get_string_list("sites");
    return std::make_shared<VirtualAdversarialAttention>(o);
  });
}

}  // namespace

void register_attention_regularizers() {
  register_adversarial("at", "scores", "Attention AT: task loss under r = eps * grad / ||grad|| on the pre-softmax scores");
  register_adversarial("iat", "scores", "Attention iAT: AT with the direction of the chosen iAT reading (mode)");
  register_adversarial("rp", "scores", "Attention RP: task loss under a random perturbation of norm eps (baseline)");
  register_adversarial("at", "embeddings", "Word AT (Miyato et al.): task loss under r = eps * grad / ||grad|| on the word embeddings");
  register_adversarial("rp", "embeddings", "Word RP: task loss under a random perturbation of norm eps on the word embeddings");
  register_virtual_adversarial("attention_vat", "scores", false,
                               "Attention VAT: KL(clean || perturbed) under the virtual adversarial score perturbation; reads no labels");
  register_virtual_adversarial("attention_ivat", "scores", true,
                               "Attention iVAT: VAT whose direction is passed through the iAT reading (mode); reads no labels");
  register_virtual_adversarial("word_vat", "embeddings", false,
                               "Word VAT (Miyato et al.): VAT on the word embeddings; reads no labels");

  config::Schema aem("AEM: negative attention entropy (minimising it spreads attention); cosine weight annealing via schedule");
  add_weight_keys(aem, 0.1);
  aem.add_bool("normalized", false, "divide each row's entropy by log(keys) (not the reference)");
  add_sites_key(aem);
  registry::regularizers().add("attention_entropy", aem.doc(), aem, [](const config::Section& c) {
    AttentionEntropyOptions o;
    o.normalized = c.get_bool("normalized");
    o.sites = c.get_string_list("sites");
    return std::make_shared<AttentionEntropy>(o);
  });
}

}  // namespace attnlab::objective
