// Builds LibTorch optimizers with two parameter groups: [0] the decayed parameters, [1] those
// with no weight decay (dim < 2: biases and normalisation weights, unless
// decay_biases_and_norms). Which "weight decay" each optimizer applies differs:
//   adamw: decoupled (Loshchilov & Hutter): p -= lr * wd * p, separate from the Adam update.
//   adam:  coupled L2: wd * p is added to the gradient before the moments, as torch.optim.Adam.
//   sgd:   coupled L2 too (wd * p joins the gradient; without momentum that equals decoupled decay).
// Only API shared by LibTorch 1.13 and 2.x is used (OptimizerParamGroup, get_lr/set_lr).
#include "framework/optim/optimizers.h"

#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace attnlab::optim {
namespace {

using GroupOptions = std::unique_ptr<torch::optim::OptimizerOptions>;

void check(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("optimizer: " + message);
}

void validate(const OptimizerOptions& o) {
  check(o.name == "adamw" || o.name == "adam" || o.name == "sgd",
        "unknown name \"" + o.name + "\" (adamw, adam, sgd)");
  // Comparisons written so that NaN fails them.
  check(o.lr >= 0.0 && std::isfinite(o.lr), "lr must be finite and >= 0");
  check(o.weight_decay >= 0.0 && std::isfinite(o.weight_decay),
        "weight_decay must be finite and >= 0");
  if (o.name == "sgd") {
    check(o.momentum >= 0.0 && std::isfinite(o.momentum), "momentum must be finite and >= 0");
    check(!o.nesterov || o.momentum > 0.0, "nesterov needs momentum > 0");
  } else {
    check(o.beta1 >= 0.0 && o.beta1 < 1.0, "beta1 must be in [0, 1)");
    check(o.beta2 >= 0.0 && o.beta2 < 1.0, "beta2 must be in [0, 1)");
    check(o.eps >= 0.0 && std::isfinite(o.eps), "eps must be finite and >= 0");
  }
}

// Options for one group; every field is set explicitly because LibTorch's defaults differ between
// optimizers (AdamWOptions defaults weight_decay to 1e-2, which would silently decay group [1]).
torch::optim::AdamWOptions adamw_options(const OptimizerOptions& o, double weight_decay) {
  return torch::optim::AdamWOptions(o.lr)
      .betas({o.beta1, o.beta2})
      .eps(o.eps)
      .weight_decay(weight_decay)
      .amsgrad(false);
}

torch::optim::AdamOptions adam_options(const OptimizerOptions& o, double weight_decay) {
  return torch::optim::AdamOptions(o.lr)
      .betas({o.beta1, o.beta2})
      .eps(o.eps)
      .weight_decay(weight_decay)
      .amsgrad(false);
}

torch::optim::SGDOptions sgd_options(const OptimizerOptions& o, double weight_decay) {
  return torch::optim::SGDOptions(o.lr)
      .momentum(o.momentum)
      .dampening(0.0)
      .nesterov(o.nesterov)
      .weight_decay(weight_decay);
}

GroupOptions group_options(const OptimizerOptions& o, double weight_decay) {
  if (o.name == "adamw")
    return std::make_unique<torch::optim::AdamWOptions>(adamw_options(o, weight_decay));
  if (o.name == "adam")
    return std::make_unique<torch::optim::AdamOptions>(adam_options(o, weight_decay));
  return std::make_unique<torch::optim::SGDOptions>(sgd_options(o, weight_decay));
}

// The defaults only fill options a group lacks; every group here carries its own.
std::unique_ptr<torch::optim::Optimizer> construct(
    const OptimizerOptions& o, std::vector<torch::optim::OptimizerParamGroup> groups) {
  if (o.name == "adamw")
    return std::make_unique<torch::optim::AdamW>(std::move(groups), adamw_options(o, o.weight_decay));
  if (o.name == "adam")
    return std::make_unique<torch::optim::Adam>(std::move(groups), adam_options(o, o.weight_decay));
  return std::make_unique<torch::optim::SGD>(std::move(groups), sgd_options(o, o.weight_decay));
}

}  // namespace

BuiltOptimizer make_optimizer(const std::vector<std::pair<std::string, torch::Tensor>>& named_params,
                              const OptimizerOptions& options) {
  validate(options);

  std::vector<torch::Tensor> decay, no_decay;
  std::vector<std::string> decay_names, no_decay_names;
  // A tied weight (e.g. embedding shared with an output layer) appears once per owner; an
  // optimizer given it twice would update it twice per step.
  std::unordered_set<const void*> seen;
  for (const auto& [name, param] : named_params) {
    if (!param.defined() || !param.requires_grad()) continue;  // frozen: nothing to optimize
    if (!seen.insert(param.unsafeGetTensorImpl()).second) continue;
    if (options.decay_biases_and_norms || param.dim() >= 2) {
      decay.push_back(param);
      decay_names.push_back(name);
    } else {
      no_decay.push_back(param);
      no_decay_names.push_back(name);
    }
  }
  check(!decay.empty() || !no_decay.empty(), "no trainable parameters");

  BuiltOptimizer built;
  std::vector<double> group_decay;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  // Group [0] always exists (possibly empty) so that index 0 always means "decayed".
  groups.emplace_back(decay, group_options(options, options.weight_decay));
  group_decay.push_back(options.weight_decay);
  built.group_names.push_back(std::move(decay_names));
  if (!no_decay.empty()) {
    groups.emplace_back(no_decay, group_options(options, 0.0));
    group_decay.push_back(0.0);
    built.group_names.push_back(std::move(no_decay_names));
  }
  built.base_lrs.assign(groups.size(), options.lr);
  built.optimizer = construct(options, std::move(groups));
  // Recent LibTorch versions merge a group's options with the optimizer's defaults, treating a
  // field equal to the options' constructor default as unset (SGD's or Adam's weight_decay 0
  // would then inherit the decayed value). Setting each group's options after construction
  // makes them exactly what was asked for on every version.
  auto& built_groups = built.optimizer->param_groups();
  for (size_t i = 0; i < built_groups.size(); ++i)
    built_groups[i].set_options(group_options(options, group_decay[i]));
  return built;
}

void apply_lr_factor(BuiltOptimizer& opt, double factor) {
  auto& groups = opt.optimizer->param_groups();
  TORCH_CHECK(groups.size() == opt.base_lrs.size(), "apply_lr_factor: ", groups.size(),
              " parameter groups but ", opt.base_lrs.size(), " base lrs");
  TORCH_CHECK(factor >= 0.0 && std::isfinite(factor), "apply_lr_factor: bad factor ", factor);
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(opt.base_lrs[i] * factor);
}

double current_lr(const torch::optim::Optimizer& optimizer, size_t group) {
  const auto& groups = optimizer.param_groups();
  TORCH_CHECK(group < groups.size(), "current_lr: group ", group, " of ", groups.size());
  return groups[group].options().get_lr();
}

}  // namespace attnlab::optim
