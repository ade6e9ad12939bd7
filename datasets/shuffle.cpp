// Deterministic permutations; see shuffle.h for why nothing here uses std::shuffle.
#include "datasets/shuffle.h"

#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace attnlab::datasets {

uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("uniform_below: bound must be >= 1");
  // (2^64 - bound) mod bound == 2^64 mod bound, in unsigned arithmetic.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

std::vector<int64_t> deterministic_permutation(int64_t n, uint64_t seed) {
  if (n < 0) throw std::invalid_argument("deterministic_permutation: n < 0: " + std::to_string(n));
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(rng, static_cast<uint64_t>(i) + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace attnlab::datasets
