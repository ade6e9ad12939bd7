// Deterministic, resumable epoch order over a training split.
#include "framework/train/sampler.h"

#include <numeric>

#include "datasets/shuffle.h"
#include "framework/errors.h"

namespace attnlab::train {

EpochSampler::EpochSampler(int64_t n, int64_t batch_size, bool shuffle, bool drop_last,
                           uint64_t seed)
    : n_(n), batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last), seed_(seed) {
  if (n_ == 0) throw UserError("the training split is empty");
  if (drop_last_ && n_ < batch_size_) {
    throw UserError("the training split has " + std::to_string(n_) +
                    " examples, fewer than train.batch_size=" + std::to_string(batch_size_) +
                    ", so train.drop_last=true leaves no batch");
  }
  start_epoch(0);
}

int64_t EpochSampler::batches_per_epoch() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

void EpochSampler::start_epoch(int64_t epoch) {
  epoch_ = epoch;
  offset_ = 0;
  if (shuffle_) {
    // A different, well-mixed seed per epoch.
    order_ = datasets::deterministic_permutation(n_, datasets::derive_seed(seed_, static_cast<uint64_t>(epoch)));
  } else {
    order_.resize(n_);
    std::iota(order_.begin(), order_.end(), 0);
  }
}

std::vector<int64_t> EpochSampler::next() {
  const int64_t remaining = n_ - offset_;
  if (remaining == 0 || (drop_last_ && remaining < batch_size_)) start_epoch(epoch_ + 1);
  const int64_t take = std::min(batch_size_, n_ - offset_);
  std::vector<int64_t> out(order_.begin() + offset_, order_.begin() + offset_ + take);
  offset_ += take;
  return out;
}

nlohmann::json EpochSampler::state() const {
  return {{"n", n_}, {"epoch", epoch_}, {"offset", offset_}, {"order", order_}};
}

void EpochSampler::load_state(const nlohmann::json& s) {
  if (s.at("n").get<int64_t>() != n_) {
    throw UserError("the checkpoint's training split has " + std::to_string(s.at("n").get<int64_t>()) +
                    " examples but the recipe's has " + std::to_string(n_) +
                    "; resume with the same data or start a new run directory");
  }
  epoch_ = s.at("epoch").get<int64_t>();
  offset_ = s.at("offset").get<int64_t>();
  order_ = s.at("order").get<std::vector<int64_t>>();
}

}  // namespace attnlab::train
