#include "framework/distributed/sharded_sampler.h"

#include "framework/errors.h"

namespace attnlab::distributed {

ShardedSampler::ShardedSampler(int64_t n, int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed,
                               int64_t rank, int64_t world_size)
    : global_(n, batch_size * world_size, shuffle, drop_last, seed),
      batch_size_(batch_size), rank_(rank), world_size_(world_size) {}

std::vector<int64_t> ShardedSampler::next() {
  const std::vector<int64_t> global = global_.next();
  std::vector<int64_t> mine;
  mine.reserve(static_cast<size_t>(batch_size_));
  const auto size = static_cast<int64_t>(global.size());
  for (int64_t i = 0; i < batch_size_; ++i) mine.push_back(global[static_cast<size_t>((rank_ * batch_size_ + i) % size)]);
  return mine;
}

nlohmann::json ShardedSampler::state() const {
  nlohmann::json s = global_.state();
  s["world_size"] = world_size_;
  return s;
}

void ShardedSampler::load_state(const nlohmann::json& state) {
  const int64_t saved = state.value("world_size", int64_t{1});
  if (saved != world_size_) {
    throw UserError("the checkpoint was written by a run of " + std::to_string(saved) + " process(es); this run has " +
                    std::to_string(world_size_) + ". The data order depends on the number of processes, so resume with " +
                    std::to_string(saved) + " (or start a new run_dir)");
  }
  nlohmann::json global = state;
  global.erase("world_size");
  global_.load_state(global);
}

}  // namespace attnlab::distributed
