// The Long Range Arena ListOps task (Tay et al. 2021; data from Nangia & Bowman 2018): classify the
// value 0..9 of a nested MIN / MAX / MED / SM expression given as a token sequence. The data is
// either generated (listops_generator.h, deterministic by seed) or read from LRA's released TSV
// files (listops_reader.h). Inputs are token ids (see listops_expression.h for the vocabulary,
// pad = 0); a batch is padded to its longest expression: inputs (B, T) int64, padding_mask (B, T)
// bool with true = padding (undefined when the batch needs no padding), labels (B) int64.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/readable_tokens.h"
#include "datasets/listops_expression.h"
#include "datasets/listops_generator.h"

namespace attnlab::datasets {

struct ListOpsDatasetOptions {
  std::string path = "";  // "" = generate; else a directory with LRA's basic_{train,val,test}.tsv
  ListOpsOptions generator;  // used when path is ""
  // Longest expression a batch can hold (DataSpec::max_length). A longer row in a file is an
  // error naming the row; generator.max_length must not exceed it.
  int64_t max_length = 2000;
};

// Variable-length expressions; batch(indices) pads to the longest of the examples chosen.
class ListOpsSplit : public Split {
 public:
  explicit ListOpsSplit(ListOpsExamples examples) : examples_(std::move(examples)) {}

  int64_t size() const override { return examples_.size(); }
  // Throws std::out_of_range for an index outside 0..size()-1.
  Batch batch(const std::vector<int64_t>& indices) const override;

  const ListOpsExamples& examples() const { return examples_; }

 private:
  ListOpsExamples examples_;
};

class ListOpsDataset : public Dataset, public ReadableTokens {
 public:
  // Throws DataError for bad options or data.
  explicit ListOpsDataset(const ListOpsDatasetOptions& options);

  // num_classes 10, vocab_size 16, max_length = options.max_length, pad_id 0.
  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override { return {"train", "val", "test"}; }
  std::shared_ptr<const Split> split(const std::string& name) const override;

  const ListOpsDatasetOptions& options() const { return options_; }
  // Operators, "]" and digits.
  TokenView token_view(const Batch& batch, int64_t index) const override;

 private:
  ListOpsDatasetOptions options_;
  DataSpec spec_;
  std::shared_ptr<const ListOpsSplit> train_, val_, test_;
};

}  // namespace attnlab::datasets
