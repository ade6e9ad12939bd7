// A model's weights as a safetensors file, to move them to and from Python (issue 8).
// The names are the model's own: parameters then buffers, as named_parameters() and
// named_buffers() give them (e.g. "blocks.0.attn.q_proj.weight"; models/README.md lists each
// model's). Python: safetensors.torch.load_file / save_file with the same names.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace attnlab::checkpoint {

// Every parameter, then every buffer (e.g. normalisation statistics), detached.
std::vector<std::pair<std::string, torch::Tensor>> model_tensors(const torch::nn::Module& model);

// Writes model_tensors(model) to `path` atomically, with `metadata` in the file's __metadata__.
void save_weights(const torch::nn::Module& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});

// Replaces the model's parameters and buffers with the file's, in place (the model keeps its
// device). Strict: the file must hold exactly the model's names, each with the model's shape and
// dtype; otherwise nothing is changed and one UserError names the file and the first tensors
// missing, unexpected or mismatched (up to five of each).
void load_weights(torch::nn::Module& model, const std::string& path);

}  // namespace attnlab::checkpoint
