// What every abstention method hands to the metrics: for each test item a decision and a set.
// Conformal predictors (LAC/APS/RAPS/top-k) never abstain; the dual-threshold rule and the RL
// policy (Abstention_CP) do. Metrics in both modes (clean, paper_compat) read only this, the
// test probabilities and the labels, so every method is scored by the same code.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::abstention {

enum class Decision : int8_t { single, set, abstain };

struct MethodOutput {
  std::string method;               // the name printed in the comparison table
  torch::Tensor sets;               // (M, K) bool: single -> one label, abstain -> no label
  std::vector<Decision> decisions;  // (M); set rows may hold 0..K labels (empty = not covered)
};

// single when the set has exactly one label, set otherwise (a conformal predictor's decisions).
std::vector<Decision> decisions_from_sets(const torch::Tensor& sets);

}  // namespace attnlab::abstention
