// The attention a few examples' tokens receive, at every attention site of a trained model, for
// the report's heatmaps (issue 8). A token's attention at a site is train::token_attention's: the
// site's weights averaged over heads and over the real query rows; a prepended CLS key is dropped;
// a site over something other than the tokens (e.g. Mega's chunked attention) is left out.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/readable_tokens.h"
#include "models/model.h"

namespace attnlab::report {

struct AttentionExample {
  int64_t index = 0;                         // position in the split
  int64_t label = -1, prediction = -1;       // classification; -1 otherwise
  datasets::TokenView view;                  // how to show its tokens (labels "#0", "#1"... if the dataset has none)
  std::vector<int> rationale;                // per real token, 1 = evidence; empty when the dataset has none
  std::vector<std::string> sites;            // attention sites in the order the model visits them
  std::vector<std::vector<double>> attention;  // [site][real token]
};

// The first `count` examples of `split` (fewer if it is smaller), in one forward in eval mode.
std::vector<AttentionExample> attention_examples(models::Model& model, const datasets::Dataset& dataset,
                                                 const datasets::Split& split, int64_t count,
                                                 const torch::Device& device);

}  // namespace attnlab::report
