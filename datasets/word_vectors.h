// Pretrained word vectors from a word2vec / fastText TEXT file (`.vec`, `.txt`): one word per line
// followed by its D numbers, separated by spaces; an optional first line "COUNT D" (fastText and
// word2vec write one, GloVe does not). Binary word2vec files and gzip are not read.
//
// The result is a (vocab_size, D) float matrix for DataSpec::pretrained_embeddings, row i for
// vocabulary id i: the file's vector for words it has (the first occurrence when a word repeats);
// for words it lacks, <unk> included, a random row drawn i.i.d. N(0, 0.1^2) from a seeded
// std::mt19937_64 (Box-Muller), the same on every machine. AllenNLP, which the AT paper used, draws
// missing rows from N(mean, std^2) of the file's values instead; with its
// only_include_pretrained_words (pitfall P8) it had almost none. The <pad> row is zero.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "datasets/vocabulary.h"

namespace attnlab::datasets {

struct WordVectors {
  torch::Tensor matrix;  // (vocab_size, dim) float32
  int64_t dim = 0;
  int64_t found = 0;     // vocabulary words (not <pad>, <unk>) the file has
  int64_t words = 0;     // vocabulary words (vocab_size - 2)
};

// Every line's width is checked, not only those of vocabulary words, so a truncated file is
// caught. Errors (DataError): "PATH: embeddings file not found"; "PATH:LINE: expected D numbers
// after the word (the header says D), got N" / "(the first vector has D)"; "PATH:LINE: value K
// ('abc') is not a number"; "PATH: no vectors".
WordVectors read_word_vectors(const std::string& path, const Vocabulary& vocab, uint64_t seed);

}  // namespace attnlab::datasets
