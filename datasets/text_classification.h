// Text classification from the files researchers have: CSV, TSV or JSON Lines with a text and a
// label column (delimited_reader.h), tokenised (tokenizer.h), mapped through a vocabulary of the
// training split (vocabulary.h), optionally with pretrained word vectors (word_vectors.h).
//
// Pipeline, per split file: read the records -> tokenize -> keep examples of at least `min_tokens`
// tokens -> map words to ids (out-of-vocabulary words become <unk>, or are dropped with
// oov: drop) -> truncate to `max_length`. The vocabulary is built from the train records kept by
// min_tokens (when val is carved out of train, from the remaining train part only). Labels map to
// ids in the order of `labels` when given, else sorted (numerically when every label is an integer,
// else bytewise); num_classes is their count.
//
// A batch holds inputs (B, T) int64 padded with <pad> = 0 to the longest example of the batch (as
// ListOps does), padding_mask (B, T) bool true at padding (undefined when no example of the batch
// is padded) and labels (B) int64. DataSpec: vocab_size = the vocabulary's, max_length = the longest
// example of any split, pad_id 0, pretrained_embeddings when `embeddings` is set.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/delimited_reader.h"
#include "datasets/readable_tokens.h"
#include "datasets/tokenizer.h"
#include "datasets/vocabulary.h"

namespace attnlab::datasets {

struct TextClassificationOptions {
  std::string train;            // required
  std::string val, test;        // optional; no val: carve a stratified val_fraction out of train
  // Optional texts without labels (semi-supervised training): split "unlabelled", read with the
  // same text column (any label column is ignored), tokenised with the train vocabulary; its
  // labels are kIgnoreTarget.
  std::string unlabelled;
  double val_fraction = 0.1;
  uint64_t seed = 0;            // of the val carve-out and of the random embedding rows
  TableOptions table;           // format, quoting, header, columns, skip_bad_rows
  std::vector<std::string> labels;  // the label order (ids 0..K-1); empty: sorted train labels
  TokenizerOptions tokenizer;
  // Examples with fewer tokens (counted after tokenising, before OOV handling and truncation) are
  // left out of every split. Inclusive: min_tokens 6 keeps 6 tokens and more, i.e. the papers'
  // "length > 5". The reference's filter_by_length (pitfall P7) is strict on both ends (keeps
  // min < len < max) and, with no minimum given, takes the dataset's shortest length as the minimum,
  // so it silently drops the shortest documents; here min_tokens 1 drops only empty texts.
  int64_t min_tokens = 1;
  int64_t max_length = 0;       // truncate longer examples to their first max_length ids; 0: never
  VocabularyOptions vocabulary;
  // unk: OOV words become <unk>. drop: they are removed (the AT paper's pipeline, pitfall P8), which
  // shortens sequences; an example left with no word is dropped and counted.
  std::string oov = "unk";
  std::string embeddings;       // word2vec/fastText text file; "" = none
};

// One split: token ids stored back to back.
class TextClassificationSplit : public Split {
 public:
  TextClassificationSplit(std::vector<int64_t> ids, std::vector<int64_t> offsets, std::vector<int64_t> labels);
  int64_t size() const override { return static_cast<int64_t>(labels_.size()); }
  // Throws std::out_of_range for an index outside the split.
  Batch batch(const std::vector<int64_t>& indices) const override;
  int64_t length(int64_t i) const { return offsets_[i + 1] - offsets_[i]; }
  std::vector<int64_t> ids(int64_t i) const;
  int64_t label(int64_t i) const { return labels_[static_cast<size_t>(i)]; }

 private:
  std::vector<int64_t> ids_;
  std::vector<int64_t> offsets_;  // size() + 1
  std::vector<int64_t> labels_;
};

class TextClassificationDataset : public Dataset, public ReadableTokens {
 public:
  // Throws DataError for bad files (PATH:LINE), std::invalid_argument for bad options.
  explicit TextClassificationDataset(const TextClassificationOptions& options);
  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override;
  std::shared_ptr<const Split> split(const std::string& name) const override;
  std::shared_ptr<const TextClassificationSplit> text_split(const std::string& name) const;

  const Vocabulary& vocabulary() const { return vocab_; }
  TokenView token_view(const Batch& batch, int64_t index) const override;  // the vocabulary's words
  const std::vector<std::string>& label_names() const { return label_names_; }
  // One line each worth telling the user: rows skipped per file, examples filtered by min_tokens
  // or left empty by oov: drop, embedding coverage ("embeddings: X of Y words found in FILE").
  // The dataset prints nothing itself; the command line prints these.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  DataSpec spec_;
  Vocabulary vocab_;
  std::vector<std::string> label_names_;
  std::vector<std::string> notes_;
  std::vector<std::pair<std::string, std::shared_ptr<const TextClassificationSplit>>> splits_;
};

}  // namespace attnlab::datasets
