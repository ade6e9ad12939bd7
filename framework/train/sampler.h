// The training data order, resumable mid-epoch (LibTorch's DataLoader owns its sampler and cannot
// resume). Epoch e visits the split in the order deterministic_permutation(n, mix(seed, e)) (or
// 0..n-1 without shuffling), in micro-batches of batch_size; with drop_last the incomplete tail
// of an epoch is skipped. The position (epoch, offset) and the epoch's order are the state a
// checkpoint saves, so a resumed run reads exactly the batches an uninterrupted one would.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnlab::train {

class EpochSampler {
 public:
  // Throws UserError if drop_last leaves no batch at all (n < batch_size).
  EpochSampler(int64_t n, int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed);

  // The next micro-batch's indices; starts the next epoch when this one is used up.
  std::vector<int64_t> next();

  int64_t epoch() const { return epoch_; }
  int64_t offset() const { return offset_; }
  int64_t batches_per_epoch() const;

  nlohmann::json state() const;
  // Restores a state saved by state(); throws UserError if it belongs to a split of another size.
  void load_state(const nlohmann::json& state);

 private:
  void start_epoch(int64_t epoch);

  int64_t n_, batch_size_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  int64_t epoch_ = 0;
  int64_t offset_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace attnlab::train
