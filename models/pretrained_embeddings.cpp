// Pretrained word vectors into a model's embedding.
#include "models/pretrained_embeddings.h"

#include <sstream>
#include <stdexcept>

namespace attnlab::models {

void load_pretrained_embeddings(torch::nn::Embedding& embedding, const InputSpec& spec, const std::string& model) {
  const auto& vectors = spec.pretrained_embeddings;
  if (!vectors.defined()) return;
  const auto& weight = embedding->weight;
  if (vectors.dim() != 2 || vectors.size(0) != weight.size(0) || vectors.size(1) != weight.size(1)) {
    std::ostringstream out;
    out << model << ": the dataset's pretrained embeddings are " << vectors.sizes() << " but the model's embedding is "
        << weight.sizes() << " (set the model's embedding width to the file's vector size)";
    throw std::invalid_argument(out.str());
  }
  torch::NoGradGuard no_grad;
  weight.copy_(vectors);
  if (spec.pad_id >= 0 && spec.pad_id < weight.size(0)) weight[spec.pad_id].zero_();
}

}  // namespace attnlab::models
