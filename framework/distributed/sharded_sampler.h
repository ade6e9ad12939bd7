// The training order of a data-parallel run: one global order for all ranks (EpochSampler over
// the whole split, same seed, global batches of batch_size · world_size), each rank taking its
// contiguous slice of every global batch. So one optimizer step of W processes with per-rank batch b
// sees exactly the examples of one step of a single process with batch W·b, and the averaged
// gradient equals the single process's mean gradient.
// A short last global batch (drop_last: false) is padded by wrapping around to its own start, so
// every rank gets b examples (DistributedSampler's padding; those examples count twice).
// The state is the global sampler's plus the world size: a checkpoint resumes exactly with the
// same number of processes and is refused, with a message saying why, under another.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "framework/train/sampler.h"

namespace attnlab::distributed {

class ShardedSampler {
 public:
  ShardedSampler(int64_t n, int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed, int64_t rank,
                 int64_t world_size);
  // This rank's next micro-batch (batch_size indices).
  std::vector<int64_t> next();
  int64_t epoch() const { return global_.epoch(); }
  int64_t batches_per_epoch() const { return global_.batches_per_epoch(); }
  nlohmann::json state() const;
  // UserError when the state was written with another world size.
  void load_state(const nlohmann::json& state);

 private:
  train::EpochSampler global_;
  int64_t batch_size_, rank_, world_size_;
};

}  // namespace attnlab::distributed
