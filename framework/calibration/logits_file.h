// A model's scores and labels from a file, for calibrating models trained elsewhere (an LLM's
// multiple-choice option logits, as in the RL paper, or any classifier's outputs).
//
// Formats (by extension unless `format` says: .csv, .tsv/.tab, .jsonl/.ndjson/.json, .npy):
//   CSV/TSV  a header row; a label column (`label_column`, default "label"), an optional split
//            column (`split_column`, default "split"), and every other column one class, in file
//            order: `label,split,A,B,C,D` has K = 4.
//   JSONL    one object per line: {"logits": [..K numbers..], "label": 2, "split": "cal"}
//            ("probs" instead of "logits" when values = probs); "split" optional.
//   .npy     an (N, K) float array; the labels from a second .npy file (`labels_path`, an (N)
//            integer array). No split column: pass one file per split.
// `values`: logits (softmax with `temperature`, in float64) or probs (each in [0, 1], rows summing
// to 1 within 1e-3).
// Every problem is one UserError naming the file and line (row for .npy) and what is wrong: a row
// with the wrong number of columns, a non-finite or non-numeric value, a label that is not an
// integer in 0..K-1, probabilities that do not sum to 1, an empty file.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace attnlab::calibration {

struct LogitsFileOptions {
  std::string format = "auto";    // auto | csv | tsv | jsonl | npy
  std::string values = "logits";  // logits | probs
  double temperature = 1.0;       // logits only
  std::string labels_path;        // .npy only
  std::string label_column = "label";
  std::string split_column = "split";
};

struct ScoredExamples {
  torch::Tensor probs;              // (N, K) float64
  torch::Tensor labels;             // (N) int64 in [0, K)
  std::vector<std::string> splits;  // (N) the split column's values; empty when the file has none
  std::vector<std::string> class_names;  // CSV/TSV header names; empty otherwise
};

ScoredExamples read_scored_examples(const std::string& path, const LogitsFileOptions& options);

// The rows whose split value is `name`; UserError naming the file and the values present when none.
ScoredExamples select_split(const ScoredExamples& all, const std::string& name, const std::string& path);

// A seeded random cut into (calibration, test) with `calibration_fraction` of the rows first,
// for files without a split column (the paper's 50/50 split; its sklearn permutation cannot be
// reproduced in C++: export a split column from Python to match it exactly).
std::pair<ScoredExamples, ScoredExamples> random_split(const ScoredExamples& all, double calibration_fraction,
                                                       uint64_t seed);

}  // namespace attnlab::calibration
