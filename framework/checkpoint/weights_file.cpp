#include "framework/checkpoint/weights_file.h"

#include <sstream>

#include "framework/errors.h"
#include "framework/io/safetensors.h"

namespace attnlab::checkpoint {
namespace {

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// "a, b, c and 2 more": at most five names of a list, for an error line.
std::string some(const std::vector<std::string>& names) {
  std::string out;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> model_tensors(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : model.named_parameters()) tensors.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers()) tensors.emplace_back(b.key(), b.value().detach());
  return tensors;
}

void save_weights(const torch::nn::Module& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  io::write_safetensors(path, model_tensors(model), metadata);
}

void load_weights(torch::nn::Module& model, const std::string& path) {
  const io::SafetensorsFile file = io::read_safetensors(path);
  std::map<std::string, torch::Tensor> from_file(file.tensors.begin(), file.tensors.end());
  std::vector<std::string> missing, mismatched, unexpected;
  const auto targets = model_tensors(model);
  for (const auto& [name, target] : targets) {
    const auto it = from_file.find(name);
    if (it == from_file.end()) {
      missing.push_back(name);
    } else if (!it->second.sizes().equals(target.sizes()) || it->second.scalar_type() != target.scalar_type()) {
      mismatched.push_back(name + " (file " + std::string(c10::toString(it->second.scalar_type())) + " " +
                           shape_text(it->second) + ", model " + c10::toString(target.scalar_type()) + " " +
                           shape_text(target) + ")");
    }
    if (it != from_file.end()) from_file.erase(it);
  }
  for (const auto& [name, t] : from_file) unexpected.push_back(name);
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string why;
    if (!missing.empty()) why += "missing " + some(missing);
    if (!mismatched.empty()) why += std::string(why.empty() ? "" : "; ") + "mismatched " + some(mismatched);
    if (!unexpected.empty()) why += std::string(why.empty() ? "" : "; ") + "unexpected " + some(unexpected);
    throw UserError(path + ": weights do not fit the model (" + std::to_string(targets.size()) +
                    " tensors expected): " + why);
  }
  // Only once everything fits: a refused file leaves the model untouched.
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> by_name(file.tensors.begin(), file.tensors.end());
  for (const auto& [name, target] : targets) target.copy_(by_name.at(name));
}

}  // namespace attnlab::checkpoint
