// The LRA ListOps recursion with rejection to a length range; see listops_generator.h.
#include "datasets/listops_generator.h"

#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/shuffle.h"

namespace attnlab::datasets {
namespace {

// Draws in a row that may fail before generation gives up: enough for any range that admits a
// few thousand expressions, small enough (each failure is at most max_length tokens) to fail fast
// on a range that cannot, e.g. max_length = 3 (only the ten digits fit).
constexpr int64_t kMaxMisses = 1000000;

// Writes one random tree in prefix order into `out`; see generate_tree in LRA's listops.py.
class TreeWriter {
 public:
  TreeWriter(std::mt19937_64& rng, const ListOpsOptions& options, std::vector<uint8_t>& out)
      : rng_(rng), options_(options), out_(out) {}

  // False once the tree is longer than max_length; the caller then discards `out`.
  bool node(int64_t depth) {
    // LRA: r = random.random() only while depth < max_depth; an operator when r <= 0.25.
    const bool branch = depth < options_.max_depth && uniform_below(rng_, 4) == 0;
    if (!branch) {
      out_.push_back(static_cast<uint8_t>(listops::kDigit0 + uniform_below(rng_, 10)));
      return fits();
    }
    const size_t head = out_.size();
    out_.push_back(0);  // the operator, drawn after its arguments as in LRA
    if (!fits()) return false;
    const uint64_t num_args = 2 + uniform_below(rng_, static_cast<uint64_t>(options_.max_args) - 1);
    for (uint64_t a = 0; a < num_args; ++a) {
      if (!node(depth + 1)) return false;
    }
    out_.push_back(static_cast<uint8_t>(listops::kClose));
    out_[head] = static_cast<uint8_t>(listops::kMin + uniform_below(rng_, 4));
    return fits();
  }

 private:
  bool fits() const { return static_cast<int64_t>(out_.size()) <= options_.max_length; }

  std::mt19937_64& rng_;
  const ListOpsOptions& options_;
  std::vector<uint8_t>& out_;
};

void check(bool ok, const std::string& what, int64_t value) {
  if (!ok) throw DataError("listops: " + what + " (got " + std::to_string(value) + ")");
}

// Adds `count` new expressions (not in `seen`) from the sub-stream `stream` of the seed.
ListOpsExamples generate_split(const ListOpsOptions& options, int64_t count, uint64_t stream,
                               std::unordered_set<std::string>& seen) {
  ListOpsExamples examples;
  std::mt19937_64 rng(derive_seed(options.seed, stream));
  std::vector<uint8_t> tokens;
  tokens.reserve(static_cast<size_t>(options.max_length) + 1);
  TreeWriter writer(rng, options, tokens);
  int64_t misses = 0;
  while (examples.size() < count) {
    tokens.clear();
    if (writer.node(1) && static_cast<int64_t>(tokens.size()) >= options.min_length &&
        seen.emplace(tokens.begin(), tokens.end()).second) {
      examples.add(tokens.data(), tokens.size(),
                   evaluate_listops_ids(tokens.data(), tokens.size()));
      misses = 0;
    } else if (++misses >= kMaxMisses) {
      throw DataError("listops: cannot generate " + std::to_string(count) +
                      " distinct expressions of " + std::to_string(options.min_length) + ".." +
                      std::to_string(options.max_length) + " tokens (found " +
                      std::to_string(examples.size()) + "; " + std::to_string(kMaxMisses) +
                      " draws in a row were out of range or repeats); widen the length range");
    }
  }
  return examples;
}

}  // namespace

ListOpsData generate_listops(const ListOpsOptions& options) {
  check(options.train_size >= 0, "train_size must be >= 0", options.train_size);
  check(options.val_size >= 0, "val_size must be >= 0", options.val_size);
  check(options.test_size >= 0, "test_size must be >= 0", options.test_size);
  check(options.max_depth >= 1, "max_depth must be >= 1", options.max_depth);
  check(options.max_args >= 2, "max_args must be >= 2", options.max_args);
  check(options.min_length >= 1, "min_length must be >= 1", options.min_length);
  check(options.max_length >= options.min_length, "max_length must be >= min_length",
        options.max_length);
  // One set over all splits, as LRA's single `data = set()`: the splits are disjoint.
  std::unordered_set<std::string> seen;
  ListOpsData data;
  data.train = generate_split(options, options.train_size, 0, seen);
  data.val = generate_split(options, options.val_size, 1, seen);
  data.test = generate_split(options, options.test_size, 2, seen);
  return data;
}

}  // namespace attnlab::datasets
