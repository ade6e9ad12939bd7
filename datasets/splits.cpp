// Stratified splits; see splits.h.
#include "datasets/splits.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "datasets/dataset.h"
#include "datasets/shuffle.h"

namespace attnlab::datasets {

SplitIndices stratified_split(const std::vector<int64_t>& labels, double val_fraction,
                              double test_fraction, uint64_t seed) {
  if (!(val_fraction >= 0.0 && test_fraction >= 0.0 && val_fraction + test_fraction < 1.0)) {
    std::ostringstream message;
    message << "val_fraction (" << val_fraction << ") and test_fraction (" << test_fraction
            << ") must be >= 0 and sum to less than 1";
    throw DataError(message.str());
  }
  std::map<int64_t, std::vector<int64_t>> by_class;  // ordered, so class rank is stable
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));

  SplitIndices split;
  uint64_t rank = 0;
  for (const auto& [label, members] : by_class) {
    const auto n = static_cast<int64_t>(members.size());
    const auto order = deterministic_permutation(n, derive_seed(seed, rank++));
    const int64_t n_test = std::min<int64_t>(n, std::llround(n * test_fraction));
    const int64_t n_val = std::min<int64_t>(n - n_test, std::llround(n * val_fraction));
    for (int64_t k = 0; k < n; ++k) {
      const int64_t index = members[order[k]];
      if (k < n_test) {
        split.test.push_back(index);
      } else if (k < n_test + n_val) {
        split.val.push_back(index);
      } else {
        split.train.push_back(index);
      }
    }
  }
  for (auto* part : {&split.train, &split.val, &split.test}) std::sort(part->begin(), part->end());
  return split;
}

}  // namespace attnlab::datasets
