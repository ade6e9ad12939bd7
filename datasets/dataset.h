// The dataset interface: a dataset holds named splits; a split makes batches from example indices.
// Datasets know nothing of models or trainers; the framework binds batches to a model.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnlab::datasets {

// Bad or missing data the user can fix: the message names the file and line (or row).
// The command line reports it as one line and exits with code 2, like a recipe error.
class DataError : public std::runtime_error {
 public:
  explicit DataError(const std::string& message) : std::runtime_error(message) {}
};

// What the labels are. kClassification: one class per example, labels (B). kLanguageModel:
// next-token targets, labels (B, T) token ids with kIgnoreTarget where there is nothing to predict
// (padding), and the model returns logits for every position.
enum class Task { kClassification, kLanguageModel };
constexpr int64_t kIgnoreTarget = -100;  // as PyTorch's cross_entropy ignore_index
const char* task_name(Task task);         // "classification" | "language_model"

// What a model needs to know about the data to size itself.
struct DataSpec {
  Task task = Task::kClassification;
  int64_t num_classes = 0;   // classification targets are 0..num_classes-1
  int64_t vocab_size = 0;    // > 0: inputs are token ids (int64); 0: inputs are float features
  int64_t feature_dim = 0;   // per-token feature size when vocab_size == 0
  int64_t max_length = 0;    // longest sequence a batch can hold (tokens per example)
  int64_t pad_id = 0;        // token id used for padding (token inputs only)
  // Pretrained word vectors (vocab_size, E) float, row i for token id i (rows of words the file
  // lacks are random, the pad row zero), when the dataset read an embeddings file; else undefined.
  torch::Tensor pretrained_embeddings;
};

// A collated batch. Shapes: inputs (B, T) int64 token ids or (B, T, F) float features;
// padding_mask (B, T) bool with true = padding (PyTorch's key_padding_mask convention), undefined
// when no example is padded; labels (B) int64, or (B, T) int64 for a language model.
// target_bytes (B, T) int64, language models only: how many bytes of the original text each target
// token stands for (0 where the target is ignored), so bits per byte can be reported for any
// tokenisation; undefined otherwise. rationale (B, T) int64, datasets that know which tokens
// or instances decide the label (evidence words of a text, the witness instances of a MIL bag:
// 1 = evidence, 0 = not or padding); undefined otherwise. Attention is scored against it.
struct Batch {
  torch::Tensor inputs;
  torch::Tensor padding_mask;
  torch::Tensor labels;
  torch::Tensor target_bytes;
  torch::Tensor rationale;
  int64_t size() const { return labels.defined() ? labels.size(0) : inputs.size(0); }
};

// One split (train / val / test) of a dataset, held in memory.
class Split {
 public:
  virtual ~Split() = default;
  virtual int64_t size() const = 0;
  // Collates the examples at `indices` (positions within this split) into one batch.
  virtual Batch batch(const std::vector<int64_t>& indices) const = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual DataSpec spec() const = 0;
  // Names of the splits this dataset has, e.g. {"train", "val", "test"}.
  virtual std::vector<std::string> split_names() const = 0;
  // The named split; throws DataError naming the valid splits if absent.
  virtual std::shared_ptr<const Split> split(const std::string& name) const = 0;
};

}  // namespace attnlab::datasets
