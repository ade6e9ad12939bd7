// Stratified train / val / test splits: each class is divided in the same proportions, so a small
// class is not left out of val or test by chance. Indices refer to positions in `labels`.
#pragma once

#include <cstdint>
#include <vector>

namespace attnlab::datasets {

struct SplitIndices {
  std::vector<int64_t> train, val, test;  // each sorted ascending; together a partition of 0..N-1
};

// Per class c (n_c examples, in label order): permute the class's indices with
// deterministic_permutation(n_c, derive_seed(seed, class rank)); the first round(n_c * test)
// go to test, the next round(n_c * val) to val (fewer if the class runs out), the rest to train.
// Throws DataError unless 0 <= val_fraction, 0 <= test_fraction and their sum < 1.
SplitIndices stratified_split(const std::vector<int64_t>& labels, double val_fraction,
                              double test_fraction, uint64_t seed);

}  // namespace attnlab::datasets
