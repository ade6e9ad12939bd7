// What the trainer needs from a data-parallel job, in one place: the process group set up from
// the environment and the recipe's `distributed` section, the check that every rank runs the same
// resolved recipe, gradient averaging (gradient_sync.h), averaging of logged values, and barriers. `from_recipe` returns null for a single process, so the trainer's
// single-process path is untouched.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "framework/distributed/communicator.h"
#include "framework/distributed/gradient_sync.h"
#include "framework/run/recipe.h"

namespace attnlab::distributed {

class DataParallel {
 public:
  // Null when the environment and the recipe describe a single process. Connects (rendezvous) and
  // checks that every rank resolved the same recipe; UserError for a CUDA device (NCCL is not
  // built yet), DistributedError when the ranks cannot meet or disagree.
  static std::unique_ptr<DataParallel> from_recipe(const run::Recipe& recipe, const torch::Device& device);

  int64_t rank() const { return comm_->rank(); }
  int64_t world_size() const { return comm_->world_size(); }
  bool lead() const { return rank() == 0; }
  std::string describe() const;  // "rank 0 of 2 (torchrun, gloo)"

  // Rank 0's parameters and buffers everywhere, then hooks for bucketed gradient averaging.
  void attach(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& buffers);
  void arm_gradient_sync() { sync_->arm(); }
  void finish_gradient_sync() { sync_->finish(); }
  const SyncTimings& sync_timings() const { return sync_->timings(); }

  // ZeRO-1 (distributed.shard_optimizer): every parameter has one owner rank (greedy by size,
  // in registration order). Before the optimizer step the other ranks drop its gradient, so their
  // optimizer neither updates it nor creates state for it (LibTorch's optimizers skip parameters
  // without a gradient); after the step each owner broadcasts its parameters. The averaged
  // gradients are the same on every rank, so the result equals unsharded training exactly.
  bool shards_optimizer() const { return settings_.shard_optimizer; }
  void drop_unowned_gradients();
  void broadcast_updated_parameters();
  // The checkpoint file of this rank's optimizer state: optimizer.pt for rank 0 (and for every
  // rank without sharding), optimizer.rank<R>.pt for the others' shards.
  std::string optimizer_file() const;
  // Rank 0 receives every rank's serialized optimizer shard (rank order); the others send theirs.
  std::vector<std::string> gather_optimizer_shards(int64_t step, const std::string& own);

  // The sum over ranks of a CPU tensor, in place (sharded evaluation).
  void sum(torch::Tensor& values, const std::string& what) { comm_->allreduce_sum(values, what); }
  // The mean over ranks of a 1-D float64 CPU tensor, in place.
  void average(torch::Tensor& values, const std::string& what);
  void barrier(const std::string& what) { comm_->barrier(what); }

 private:
  std::unique_ptr<Communicator> comm_;
  std::unique_ptr<GradientSynchronizer> sync_;
  std::vector<torch::Tensor> params_;
  std::vector<int64_t> owner_;  // per parameter, with shard_optimizer
  Environment env_;
  DistributedSettings settings_;
};

}  // namespace attnlab::distributed
