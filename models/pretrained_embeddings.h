// Initialising a model's token embedding from the dataset's pretrained word vectors
// (InputSpec::pretrained_embeddings, read by the dataset from a word2vec/fastText text file).
#pragma once

#include <torch/torch.h>

#include <string>

#include "models/model.h"

namespace attnlab::models {

// Copies spec.pretrained_embeddings (vocab_size, E) into `embedding` when defined; the pad row is
// zeroed. Throws std::invalid_argument naming `model` when the shapes differ (e.g. the recipe's
// embedding width is not the file's).
void load_pretrained_embeddings(torch::nn::Embedding& embedding, const InputSpec& spec, const std::string& model);

}  // namespace attnlab::models
