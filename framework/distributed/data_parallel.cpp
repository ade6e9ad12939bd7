#include "framework/distributed/data_parallel.h"

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
  sync_ = std::make_unique<GradientSynchronizer>(*comm_, params, settings_.bucket_mb);
  sync_->broadcast_parameters(buffers);
}

void DataParallel::average(torch::Tensor& values, const std::string& what) {
  TORCH_INTERNAL_ASSERT(values.dim() == 1 && values.scalar_type() == torch::kDouble && values.device().is_cpu());
  comm_->allreduce_sum(values, what);
  values.div_(static_cast<double>(world_size()));
}

int DataParallel::agree_on_stop(int local_signal) {
  // Sum of (signal > 0) and the largest signal number: everyone stops at the same step.
  torch::Tensor v = torch::tensor({local_signal > 0 ? 1.0 : 0.0}, torch::kDouble);
  comm_->allreduce_sum(v, "agreeing on a stop signal");
  if (v.item<double>() == 0.0) return 0;
  return local_signal > 0 ? local_signal : 15;  // SIGTERM for ranks that saw none themselves
}

}  // namespace attnlab::distributed
