#include "framework/distributed/data_parallel.h"

#include <algorithm>
#include <cstdio>

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::distributed {

std::unique_ptr<DataParallel> DataParallel::from_recipe(const run::Recipe& recipe, const torch::Device& device) {
  const DistributedSettings settings = read_distributed_settings(recipe.tree.find("distributed"));
  const Environment env = resolve_environment(settings);
  if (!env.distributed()) return nullptr;
  if (device.is_cuda() || settings.backend == "nccl") {
    throw UserError("distributed.backend: data-parallel training on CUDA needs the NCCL backend, which this build "
                    "does not have yet; use train.device=cpu (Gloo)");
  }
  std::unique_ptr<DataParallel> dp(new DataParallel());
  dp->env_ = env;
  dp->settings_ = settings;
  dp->comm_ = Communicator::connect(env, settings);
  // The resolved recipe, not the file: overrides count. run_dir is the same for every rank.
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08x", io::crc32c(recipe.tree.to_yaml()));
  dp->comm_->check_same("resolved recipe's CRC32C", hash);
  return dp;
}

std::string DataParallel::describe() const {
  return "rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + " (" + env_.source + ", gloo)";
}

void DataParallel::attach(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& buffers) {
  params_ = params;
  sync_ = std::make_unique<GradientSynchronizer>(*comm_, params, settings_.bucket_mb);
  sync_->broadcast_parameters(buffers);
  std::vector<int64_t> load(static_cast<size_t>(world_size()), 0);
  for (const auto& p : params_) {
    const auto owner = static_cast<int64_t>(std::min_element(load.begin(), load.end()) - load.begin());
    owner_.push_back(owner);
    load[static_cast<size_t>(owner)] += p.numel();
  }
}

void DataParallel::drop_unowned_gradients() {
  for (size_t k = 0; k < params_.size(); ++k)
    if (owner_[k] != rank()) params_[k].mutable_grad() = torch::Tensor();
}

void DataParallel::broadcast_updated_parameters() {
  torch::NoGradGuard no_grad;
  for (int64_t r = 0; r < world_size(); ++r) {
    std::vector<torch::Tensor> owned;
    int64_t numel = 0;
    for (size_t k = 0; k < params_.size(); ++k) {
      if (owner_[k] != r) continue;
      owned.push_back(params_[k]);
      numel += params_[k].numel();
    }
    if (owned.empty()) continue;
    torch::Tensor flat = torch::empty({numel}, owned[0].options().requires_grad(false));
    if (r == rank()) {
      int64_t offset = 0;
      for (const auto& p : owned) {
        flat.narrow(0, offset, p.numel()).copy_(p.detach().reshape({-1}));
        offset += p.numel();
      }
    }
    comm_->broadcast(flat, "broadcasting rank " + std::to_string(r) + "'s updated parameters", r);
    if (r == rank()) continue;
    int64_t offset = 0;
    for (auto& p : owned) {
      p.detach().copy_(flat.narrow(0, offset, p.numel()).view(p.sizes()));
      offset += p.numel();
    }
  }
}

std::string DataParallel::optimizer_file() const {
  return !settings_.shard_optimizer || rank() == 0 ? "optimizer.pt" : "optimizer.rank" + std::to_string(rank()) + ".pt";
}

std::vector<std::string> DataParallel::gather_optimizer_shards(int64_t step, const std::string& own) {
  return comm_->gather_to_lead("optimizer shards of step " + std::to_string(step), own);
}

void DataParallel::average(torch::Tensor& values, const std::string& what) {
  TORCH_INTERNAL_ASSERT(values.dim() == 1 && values.scalar_type() == torch::kDouble && values.device().is_cpu());
  comm_->allreduce_sum(values, what);
  values.div_(static_cast<double>(world_size()));
}


}  // namespace attnlab::distributed
