// Which attention sites a regularizer acts on: all sites a forward recorded, or the recipe's list
// (`sites: [layer0, layer3]`). A listed site the model does not have is an error naming the ones it has.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace attnlab::objective {

// The recorded tensors of the chosen sites, in site order. `recorded` is a ForwardContext's
// scores() or weights(); `what` names the regularizer in errors.
std::vector<std::pair<std::string, torch::Tensor>> chosen_sites(
    const std::map<std::string, torch::Tensor>& recorded, const std::vector<std::string>& wanted,
    const std::string& what);

}  // namespace attnlab::objective
