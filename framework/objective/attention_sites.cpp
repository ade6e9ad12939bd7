// Site selection for attention regularizers.
#include "framework/objective/attention_sites.h"

#include <sstream>

namespace attnlab::objective {

std::vector<std::pair<std::string, torch::Tensor>> chosen_sites(
    const std::map<std::string, torch::Tensor>& recorded, const std::vector<std::string>& wanted,
    const std::string& what) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  if (wanted.empty()) {
    for (const auto& [site, t] : recorded) out.emplace_back(site, t);
  } else {
    for (const auto& site : wanted) {
      const auto it = recorded.find(site);
      if (it == recorded.end()) {
        std::ostringstream msg;
        msg << what << ": the model has no attention site '" << site << "'; it has:";
        for (const auto& [name, t] : recorded) msg << " " << name;
        throw std::invalid_argument(msg.str());
      }
      out.emplace_back(site, it->second);
    }
  }
  TORCH_CHECK(!out.empty(), what, ": the model's forward recorded no attention site");
  return out;
}

}  // namespace attnlab::objective
