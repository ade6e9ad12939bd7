// MIL bag drawing and the digits_mil dataset; see mil_bags.h.
#include "datasets/mil_bags.h"

#include <algorithm>
#include <cmath>

#include "datasets/digits.h"
#include "datasets/shuffle.h"
#include "datasets/splits.h"

namespace attnlab::datasets {
namespace {

constexpr double kPi = 3.14159265358979323846;

double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }  // [0, 1)

int64_t pick(std::mt19937_64& rng, const std::vector<int64_t>& from) {
  return from[uniform_below(rng, from.size())];
}

MilBag negative_bag(std::mt19937_64& rng, int64_t length, const std::vector<int64_t>& others) {
  MilBag bag;
  for (int64_t j = 0; j < length; ++j) bag.rows.push_back(pick(rng, others));
  bag.instance_labels.assign(length, 0);
  return bag;
}

}  // namespace

double standard_normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

int64_t draw_bag_length(std::mt19937_64& rng, double mean, double std) {
  const double x = mean + std * standard_normal(rng);
  return std::max<int64_t>(1, static_cast<int64_t>(std::trunc(x)));  // Python int(): toward zero
}

std::vector<MilBag> draw_mil_bags(const std::vector<int64_t>& pool_labels, const MilBagOptions& o, int64_t n_bags,
                                  uint64_t seed, const std::string& what) {
  std::vector<int64_t> targets, others;
  for (size_t i = 0; i < pool_labels.size(); ++i)
    (pool_labels[i] == o.target ? targets : others).push_back(static_cast<int64_t>(i));
  if (targets.empty() || others.empty())
    throw DataError(what + ": the instance pool needs images of the target digit " + std::to_string(o.target) +
                    " and of other digits (it has " + std::to_string(targets.size()) + " and " +
                    std::to_string(others.size()) + ")");
  if (!o.balanced && (o.min_witnesses != 1 || o.witness_fraction > 0))
    throw DataError(what + ": min_witnesses and witness_fraction need balanced bags");
  std::mt19937_64 rng(seed);
  const int64_t pool = static_cast<int64_t>(pool_labels.size());
  const auto any_bag = [&](int64_t length) {
    MilBag bag;
    for (int64_t j = 0; j < length; ++j) {
      const int64_t r = static_cast<int64_t>(uniform_below(rng, pool));
      bag.rows.push_back(r);
      bag.instance_labels.push_back(pool_labels[r] == o.target ? 1 : 0);
    }
    bag.label = std::count(bag.instance_labels.begin(), bag.instance_labels.end(), 1) > 0 ? 1 : 0;
    return bag;
  };
  const auto positive_bag = [&]() {
    for (int64_t attempt = 0; attempt < o.max_attempts; ++attempt) {
      const int64_t length = draw_bag_length(rng, o.mean_bag_size, o.std_bag_size);
      if (o.witness_fraction > 0) {
        const int64_t w = std::max<int64_t>(o.min_witnesses, std::llround(o.witness_fraction * length));
        if (w > length) continue;
        MilBag bag;
        bag.label = 1;
        const auto order = deterministic_permutation(length, rng());  // witnesses at random positions
        bag.rows.assign(length, 0);
        bag.instance_labels.assign(length, 0);
        for (int64_t j = 0; j < length; ++j) {
          const bool witness = order[j] < w;
          bag.rows[j] = pick(rng, witness ? targets : others);
          bag.instance_labels[j] = witness ? 1 : 0;
        }
        return bag;
      }
      MilBag bag = any_bag(length);
      if (std::count(bag.instance_labels.begin(), bag.instance_labels.end(), 1) >= o.min_witnesses) return bag;
    }
    throw DataError(what + ": no positive bag with >= " + std::to_string(o.min_witnesses) + " targets in " +
                    std::to_string(o.max_attempts) + " draws; lower min_witnesses or raise mean_bag_size");
  };
  std::vector<MilBag> bags;
  bags.reserve(n_bags);
  for (int64_t i = 0; i < n_bags; ++i) {
    if (!o.balanced) {
      bags.push_back(any_bag(draw_bag_length(rng, o.mean_bag_size, o.std_bag_size)));
    } else if (i % 2 == 0) {
      bags.push_back(positive_bag());
    } else {
      bags.push_back(negative_bag(rng, draw_bag_length(rng, o.mean_bag_size, o.std_bag_size), others));
    }
  }
  return bags;
}

DigitsMilDataset::DigitsMilDataset(const DigitsMilOptions& o) {
  if (o.bags.target < 0 || o.bags.target > 9) throw DataError("digits_mil: target must be a digit 0..9");
  if (o.features != "pixels" && o.features != "random_projection")
    throw DataError("digits_mil: features must be pixels or random_projection, not '" + o.features + "'");
  const auto data = read_digits_csv(o.path.empty() ? find_digits_file() : o.path);
  const int64_t n = data.images.size(0);
  auto features = data.images.reshape({n, 64}).to(torch::kFloat) / 16.0;  // (N, 64) in [0, 1]
  if (o.features == "random_projection") {
    // Frozen random ReLU features (notes §3.5 (b)): a Rademacher matrix from the portable RNG.
    std::mt19937_64 rng(derive_seed(o.seed, 4));
    auto r = torch::empty({64, o.projection_dim}, torch::kFloat);
    auto acc = r.accessor<float, 2>();
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < o.projection_dim; ++j) acc[i][j] = (rng() >> 63) ? 0.125f : -0.125f;
    features = torch::relu(features.matmul(r));  // (N, dim)
  }
  const auto labels_t = data.labels.contiguous();
  const std::vector<int64_t> labels(labels_t.data_ptr<int64_t>(), labels_t.data_ptr<int64_t>() + n);
  const auto pools = stratified_split(labels, o.val_fraction, o.test_fraction, derive_seed(o.seed, 0));
  train_pool_ = pools.train;
  val_pool_ = pools.val;
  test_pool_ = pools.test;
  const auto make = [&](const std::vector<int64_t>& pool, int64_t count, uint64_t stream, const char* name) {
    std::vector<int64_t> pool_labels;
    for (const int64_t i : pool) pool_labels.push_back(labels[i]);
    auto bags = draw_mil_bags(pool_labels, o.bags, count, derive_seed(o.seed, stream),
                              std::string("digits_mil ") + name + " split");
    return std::make_shared<const MilSplit>(features.index_select(0, torch::tensor(pool, torch::kLong)).contiguous(),
                                            std::move(bags));
  };
  train_ = make(train_pool_, o.train_bags, 1, "train");
  val_ = make(val_pool_, o.val_bags, 2, "val");
  test_ = make(test_pool_, o.test_bags, 3, "test");
  spec_.num_classes = 2;
  spec_.feature_dim = features.size(1);
  spec_.max_length = std::max({train_->max_bag_size(), val_->max_bag_size(), test_->max_bag_size()});
}

std::shared_ptr<const MilSplit> DigitsMilDataset::mil_split(const std::string& name) const {
  if (name == "train") return train_;
  if (name == "val") return val_;
  if (name == "test") return test_;
  throw DataError("digits_mil has no split '" + name + "'; it has: train val test");
}

std::shared_ptr<const Split> DigitsMilDataset::split(const std::string& name) const { return mil_split(name); }

const std::vector<int64_t>& DigitsMilDataset::pool_images(const std::string& name) const {
  if (name == "train") return train_pool_;
  if (name == "val") return val_pool_;
  if (name == "test") return test_pool_;
  throw DataError("digits_mil has no split '" + name + "'; it has: train val test");
}

}  // namespace attnlab::datasets
