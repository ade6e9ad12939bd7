// Platform-independent randomness for data: the same seed gives the same order on every compiler
// and standard library, forever. std::mt19937_64's output sequence is fixed by the C++ standard,
// but std::shuffle and std::uniform_int_distribution are implementation-defined (libstdc++ and
// libc++ differ), so bounded draws and Fisher-Yates are written out here.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace attnlab::datasets {

// A uniform integer in [0, bound), bound >= 1, by rejection sampling: draws below 2^64 mod bound
// are rejected so every residue is equally likely (no modulo bias).
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound);

// A permutation of 0..n-1: Fisher-Yates (Durstenfeld) driven by std::mt19937_64(seed):
// for i = n-1 down to 1, swap p[i] with p[uniform_below(i + 1)].
std::vector<int64_t> deterministic_permutation(int64_t n, uint64_t seed);

// Derives an independent seed for sub-stream `stream` of `seed` (SplitMix64 finaliser), so that
// e.g. the classes of a stratified split are shuffled by unrelated generators.
uint64_t derive_seed(uint64_t seed, uint64_t stream);

}  // namespace attnlab::datasets
