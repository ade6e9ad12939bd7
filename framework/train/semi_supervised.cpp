// Stratified labelled subsets and subset splits.
#include "framework/train/semi_supervised.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <stdexcept>

#include "datasets/shuffle.h"

namespace attnlab::train {

std::vector<int64_t> labelled_subset(const torch::Tensor& labels, int64_t n, uint64_t seed) {
  const auto flat = labels.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t total = flat.numel();
  if (n <= 0 || n > total) {
    throw std::invalid_argument("labelled_examples must be in 1.." + std::to_string(total) + ", got " +
                                std::to_string(n));
  }
  const auto* y = flat.data_ptr<int64_t>();
  std::map<int64_t, std::vector<int64_t>> by_class;
  for (const int64_t i : datasets::deterministic_permutation(total, seed)) by_class[y[i]].push_back(i);

  // Largest-remainder apportionment of n over the classes.
  std::vector<std::pair<int64_t, double>> remainders;  // (class, fractional part)
  std::map<int64_t, int64_t> quota;
  int64_t given = 0;
  for (const auto& [c, members] : by_class) {
    const double share = static_cast<double>(n) * members.size() / total;
    quota[c] = static_cast<int64_t>(share);
    given += quota[c];
    remainders.emplace_back(c, share - quota[c]);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t k = 0; given < n; ++k, ++given) ++quota[remainders[k].first];

  std::vector<int64_t> out;
  for (const auto& [c, members] : by_class) out.insert(out.end(), members.begin(), members.begin() + quota[c]);
  std::sort(out.begin(), out.end());
  return out;
}

SubsetSplit::SubsetSplit(std::shared_ptr<const datasets::Split> base, std::vector<int64_t> positions)
    : base_(std::move(base)), positions_(std::move(positions)) {
  for (const int64_t p : positions_) {
    if (p < 0 || p >= base_->size()) throw std::out_of_range("SubsetSplit: position outside the split");
  }
}

datasets::Batch SubsetSplit::batch(const std::vector<int64_t>& indices) const {
  std::vector<int64_t> mapped;
  mapped.reserve(indices.size());
  for (const int64_t i : indices) mapped.push_back(positions_.at(static_cast<size_t>(i)));
  return base_->batch(mapped);
}

}  // namespace attnlab::train
