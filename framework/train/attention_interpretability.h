// Interpretability of a trained classifier's attention on a split (issue 4; notes
// attention_regularizers.md §1.7, §2.3, §3.5), computed from one forward per batch through the tap:
//   - attention_entropy (nats) and attention_entropy_normalized (H / log n): the mean over examples of
//     the mean entropy of the site's attention rows (AEM's quantity);
//   - gradient_pearson, gradient_kendall: per example, Pearson r and Kendall tau-b between the
//     attention a token receives and its gradient-times-input importance |sum_d g e| (Jain & Wallace:
//     the gradient of the predicted class's probability with respect to the "embed" embeddings, the
//     attention weights detached, normalised over the real tokens); the mean, with quantiles of the
//     per-example values. Needs a model with an embedding site.
//   - with a rationale (evidence words, MIL witness instances): rationale_auprc,
//     rationale_average_precision and rationale_roc_auc per example as the ERASER scorer computes them
//     (examples whose rationale is all 0 or all 1 skipped), and localisation_auc, the ROC-AUC of
//     attention against the rationale pooled over every token of the examples that have evidence,
//     each example's attention multiplied by its number of tokens so that uniform attention is 1 in
//     every bag or sentence (Ilse et al.'s instance-level localisation).
// A token's attention: the site's weights (N, H, Tq, Tk) averaged over heads and over the real query
// rows. With one key more than tokens (a CLS token prepended) the first key is dropped.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/dataset.h"
#include "models/model.h"

namespace attnlab::train {

struct InterpretabilityOptions {
  std::string site;        // "": "pool" when the model has it, else the last attention site visited
  int64_t batch_size = 64;
};

struct InterpretabilityResult {
  std::string site;                          // the attention site measured
  std::map<std::string, double> metrics;     // name -> mean over the examples it is defined for
  std::map<std::string, int64_t> counted;    // name -> how many examples that mean is over
  std::map<std::string, std::vector<double>> per_example;  // gradient_pearson, gradient_kendall

  nlohmann::json to_json() const;  // {"site":..., <name>: mean, "<name>_n": count, "<name>_quantiles": {...}}
  std::string to_line() const;     // "attention (pool): attention_entropy 2.1 | ..."
};

// Classification models only (logits (B, C)); the model is put in eval mode for the call.
// Throws std::invalid_argument naming the sites the model has when `site` is not one of them.
InterpretabilityResult evaluate_interpretability(models::Model& model, const datasets::Split& split,
                                                 const InterpretabilityOptions& options,
                                                 const torch::Device& device);

// A token's attention from one site's weights (N, H, Tq, Tk) and key padding mask (N, Tk) or
// undefined: the mean over heads and over the rows of non-padded queries (all rows when Tq != Tk),
// (N, Tk). Exposed for tests.
torch::Tensor token_attention(const torch::Tensor& weights, const torch::Tensor& key_padding_mask);

}  // namespace attnlab::train
