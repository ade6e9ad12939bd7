// Multiple-instance bags drawn from an instance pool, as Ilse et al.'s MNIST-bags
// (AttentionDeepMIL; notes attention_regularizers.md §3.5), and the `digits_mil` dataset that
// draws them from the sklearn 8x8 digits.
//
// A bag's length is int(N(mean, std)) (truncated toward zero, as Python's int()), floored at 1;
// `std` really is a standard deviation (the reference calls it var_bag_length: pitfall P16).
// Instances are drawn uniformly with replacement from the pool. A bag is positive iff it contains
// the target digit; its instance labels (the rationale) mark the target instances.
//   balanced (the loader of the paper, mnist_bags_loader.py): bags alternate positive, negative,
//     positive, ... before any shuffling, so exactly half (rounded up) are positive. A positive bag
//     is redrawn, length included, until it holds >= min_witnesses targets (Ilse: 1); a negative
//     bag keeps its drawn length and takes only non-target instances. Works for any target digit
//     (the reference's `>=` test only works for 9).
//   witness_fraction p > 0 (multi-witness variant, notes §3.5 (a)): a positive bag of length n has
//     exactly w = max(min_witnesses, round(p n)) targets at random positions (its length is redrawn
//     while w > n); negatives as above.
//   not balanced (the naive dataloader.py): every bag is drawn from the whole pool and labelled by
//     whether it holds a target (positive rate 1 - 0.9^n); needs min_witnesses 1 and no fraction.
// All randomness is std::mt19937_64 with the portable draws of shuffle.h (normals by Box-Muller
// from 53-bit uniforms), so a seed gives the same bags everywhere.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/mil_split.h"

namespace attnlab::datasets {

struct MilBagOptions {
  int64_t target = 9;
  double mean_bag_size = 10.0;
  double std_bag_size = 2.0;
  bool balanced = true;
  int64_t min_witnesses = 1;
  double witness_fraction = 0.0;   // 0: off (positives drawn by rejection)
  int64_t max_attempts = 100000;   // redraws of one positive bag before giving up (DataError)
};

// A standard normal draw (Box-Muller) and a bag length int(N(mean, std)) floored at 1.
double standard_normal(std::mt19937_64& rng);
int64_t draw_bag_length(std::mt19937_64& rng, double mean, double std);

// `n_bags` bags over a pool whose instance i shows digit pool_labels[i]; MilBag::rows index the
// pool, instance_labels = (digit == target). Throws DataError (naming `what`) for impossible
// options: no target or no non-target in the pool, a positive bag not found in max_attempts.
std::vector<MilBag> draw_mil_bags(const std::vector<int64_t>& pool_labels, const MilBagOptions& options,
                                  int64_t n_bags, uint64_t seed, const std::string& what = "digits_mil");

struct DigitsMilOptions {
  std::string path = "";  // "" = find_digits_file()
  MilBagOptions bags;
  int64_t train_bags = 200, val_bags = 200, test_bags = 1000;
  // Fractions of the 1,797 images (stratified by digit) in the val and test pools; train bags draw
  // from the rest, so no image is in two splits.
  double val_fraction = 0.15, test_fraction = 0.25;
  std::string features = "pixels";  // pixels (64 values in [0, 1]) | random_projection
  int64_t projection_dim = 128;     // random_projection: ReLU(x R), R (64, dim) of +-1/8, frozen
  uint64_t seed = 0;
};

class DigitsMilDataset : public Dataset {
 public:
  explicit DigitsMilDataset(const DigitsMilOptions& options);
  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override { return {"train", "val", "test"}; }
  std::shared_ptr<const Split> split(const std::string& name) const override;
  std::shared_ptr<const MilSplit> mil_split(const std::string& name) const;
  // The digits-file rows of `name`'s pool: row r of that split's instance table is image
  // pool_images(name)[r].
  const std::vector<int64_t>& pool_images(const std::string& name) const;

 private:
  DataSpec spec_;
  std::shared_ptr<const MilSplit> train_, val_, test_;
  std::vector<int64_t> train_pool_, val_pool_, test_pool_;
};

}  // namespace attnlab::datasets
