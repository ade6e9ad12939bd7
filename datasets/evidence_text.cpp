// Synthetic evidence text generation.
#include "datasets/evidence_text.h"

#include <random>

#include "datasets/in_memory_split.h"
#include "datasets/shuffle.h"

namespace attnlab::datasets {
namespace {

void check(bool ok, const std::string& message) {
  if (!ok) throw DataError("evidence_text: " + message);
}

std::shared_ptr<const EvidenceTextSplit> generate(const EvidenceTextOptions& o, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int64_t t = o.max_length, e = o.evidence_tokens, c = o.num_classes;
  auto inputs = torch::zeros({n, t}, torch::kLong);
  auto labels = torch::empty({n}, torch::kLong);
  auto mask = torch::ones({n, t}, torch::kBool);
  auto rationale = torch::zeros({n, t}, torch::kLong);
  auto in = inputs.accessor<int64_t, 2>();
  auto lab = labels.accessor<int64_t, 1>();
  auto pad = mask.accessor<bool, 2>();
  auto rat = rationale.accessor<int64_t, 2>();
  const auto draw = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(uniform_below(rng, hi - lo + 1)); };
  const auto evidence_word = [&](int64_t cls) { return 1 + cls * e + static_cast<int64_t>(uniform_below(rng, e)); };
  const std::vector<int64_t> order = deterministic_permutation(n, derive_seed(seed, 1));
  for (int64_t row = 0; row < n; ++row) {
    const int64_t i = order[row];  // class i mod C, rows shuffled
    const int64_t y = i % c;
    const int64_t length = draw(o.min_length, o.max_length);
    const int64_t k = draw(o.min_evidence, o.max_evidence);
    int64_t m = 0, other = y;
    // A probability test with the portable integer draw (std distributions differ across libraries).
    if (k > 1 && static_cast<double>(uniform_below(rng, 1000000)) < o.counter_evidence * 1e6) {
      m = draw(1, k - 1);
      other = (y + draw(1, c - 1)) % c;
    }
    const std::vector<int64_t> positions = deterministic_permutation(length, rng());
    lab[row] = y;
    for (int64_t p = 0; p < length; ++p) {
      pad[row][p] = false;
      in[row][p] = 1 + c * e + static_cast<int64_t>(uniform_below(rng, o.distractors));
    }
    for (int64_t j = 0; j < k; ++j) {
      in[row][positions[j]] = evidence_word(y);
      rat[row][positions[j]] = 1;
    }
    for (int64_t j = 0; j < m; ++j) in[row][positions[k + j]] = evidence_word(other);
  }
  return std::make_shared<EvidenceTextSplit>(inputs, labels, mask, rationale);
}

}  // namespace

EvidenceTextSplit::EvidenceTextSplit(torch::Tensor inputs, torch::Tensor labels, torch::Tensor padding_mask,
                                     torch::Tensor rationale)
    : inputs_(std::move(inputs)), labels_(std::move(labels)), padding_mask_(std::move(padding_mask)),
      rationale_(std::move(rationale)) {}

Batch EvidenceTextSplit::batch(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices)
    if (i < 0 || i >= size()) throw std::out_of_range("evidence_text: example " + std::to_string(i) + " of " + std::to_string(size()));
  const auto idx = index_tensor(indices);
  Batch b;
  b.inputs = inputs_.index_select(0, idx);
  b.labels = labels_.index_select(0, idx);
  b.padding_mask = padding_mask_.index_select(0, idx);
  b.rationale = rationale_.index_select(0, idx);
  return b;
}

EvidenceTextDataset::EvidenceTextDataset(const EvidenceTextOptions& o) : options_(o) {
  check(o.num_classes >= 2, "num_classes must be >= 2");
  check(o.evidence_tokens >= 1 && o.distractors >= 1, "evidence_tokens and distractors must be >= 1");
  check(o.min_length >= 1 && o.min_length <= o.max_length, "min_length must be in 1..max_length");
  check(o.min_evidence >= 1 && o.min_evidence <= o.max_evidence, "min_evidence must be in 1..max_evidence");
  // The evidence and any counter-evidence (< k words) must fit in the shortest sentence.
  check(2 * o.max_evidence - 1 <= o.min_length,
        "min_length (" + std::to_string(o.min_length) + ") must hold 2*max_evidence-1 = " +
            std::to_string(2 * o.max_evidence - 1) + " planted words");
  check(o.counter_evidence >= 0 && o.counter_evidence <= 1, "counter_evidence must be in [0, 1]");
  spec_.num_classes = o.num_classes;
  spec_.vocab_size = 1 + o.num_classes * o.evidence_tokens + o.distractors;
  spec_.max_length = o.max_length;
  spec_.pad_id = 0;
  train_ = generate(o, o.train_size, derive_seed(o.seed, 10));
  val_ = generate(o, o.val_size, derive_seed(o.seed, 11));
  test_ = generate(o, o.test_size, derive_seed(o.seed, 12));
}

std::shared_ptr<const Split> EvidenceTextDataset::split(const std::string& name) const {
  if (name == "train") return train_;
  if (name == "val") return val_;
  if (name == "test") return test_;
  throw DataError("evidence_text has no split '" + name + "'; it has: train val test");
}

TokenView EvidenceTextDataset::token_view(const Batch& batch, int64_t index) const {
  TokenView view;
  const int64_t e = options_.evidence_tokens, evidence_end = 1 + options_.num_classes * e;
  for (int64_t id : real_token_ids(batch, index)) {
    view.labels.push_back(id >= 1 && id < evidence_end
                              ? "E" + std::to_string((id - 1) / e) + "." + std::to_string((id - 1) % e)
                              : "w" + std::to_string(id - evidence_end));
  }
  return view;
}

}  // namespace attnlab::datasets
