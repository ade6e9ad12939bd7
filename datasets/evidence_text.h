// A synthetic evidence text dataset (the small-scale stand-in for human rationales, issue 4): each
// example is a token sequence of random distractor words in which a few planted evidence tokens
// decide the label, and the positions of those tokens are kept as a rationale mask, so agreement of
// attention with the evidence can be measured exactly.
//
// Vocabulary: 0 = pad, then `evidence_tokens` evidence words per class (class c owns ids
// 1 + c*E .. c*E + E), then `distractors` distractor words. An example of class y (classes balanced:
// example i has class i mod C, then the split is shuffled) has a length drawn uniformly from
// [min_length, max_length], k evidence words of class y with k uniform in [min_evidence,
// max_evidence], and, with probability `counter_evidence`, m < k evidence words of one other class
// (so the label is the class with the most evidence, not the first seen), all at distinct random
// positions; the other positions are distractors. rationale = the positions of class-y evidence.
// Deterministic by seed (datasets/shuffle.h randomness), the splits from independent sub-streams.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/readable_tokens.h"

namespace attnlab::datasets {

struct EvidenceTextOptions {
  int64_t train_size = 2000, val_size = 500, test_size = 500;
  int64_t num_classes = 2;
  int64_t evidence_tokens = 5;  // per class
  int64_t distractors = 200;
  int64_t min_length = 20, max_length = 60;
  int64_t min_evidence = 1, max_evidence = 3;
  double counter_evidence = 0.3;
  uint64_t seed = 0;
};

// Fixed-width tensors (N, max_length); a batch keeps that width.
class EvidenceTextSplit : public Split {
 public:
  EvidenceTextSplit(torch::Tensor inputs, torch::Tensor labels, torch::Tensor padding_mask, torch::Tensor rationale);
  int64_t size() const override { return labels_.size(0); }
  Batch batch(const std::vector<int64_t>& indices) const override;

 private:
  torch::Tensor inputs_, labels_, padding_mask_, rationale_;
};

class EvidenceTextDataset : public Dataset, public ReadableTokens {
 public:
  // Throws DataError naming the option for inconsistent options.
  explicit EvidenceTextDataset(const EvidenceTextOptions& options);
  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override { return {"train", "val", "test"}; }
  std::shared_ptr<const Split> split(const std::string& name) const override;
  // Evidence words "E<class>.<j>", distractors "w<k>".
  TokenView token_view(const Batch& batch, int64_t index) const override;

 private:
  EvidenceTextOptions options_;
  DataSpec spec_;
  std::shared_ptr<const EvidenceTextSplit> train_, val_, test_;
};

}  // namespace attnlab::datasets
