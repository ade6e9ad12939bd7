// Synthetic evidence text: every example's label is the class with the most evidence words (an
// independent count here), the rationale marks exactly the label's evidence, lengths and counts
// respect the options, classes are balanced, the same seed gives the same data, bad options name
// themselves.
#include <gtest/gtest.h>

#include "datasets/evidence_text.h"

namespace attnlab::datasets {
namespace {

EvidenceTextOptions options() {
  EvidenceTextOptions o;
  o.train_size = 300;
  o.val_size = 50;
  o.test_size = 50;
  o.num_classes = 3;
  o.evidence_tokens = 4;
  o.distractors = 50;
  o.min_length = 8;
  o.max_length = 20;
  o.min_evidence = 2;
  o.max_evidence = 4;
  o.counter_evidence = 0.5;
  o.seed = 7;
  return o;
}

TEST(EvidenceText, LabelsFollowTheEvidenceAndTheRationaleMarksIt) {
  const auto o = options();
  EvidenceTextDataset data(o);
  EXPECT_EQ(data.spec().vocab_size, 1 + 3 * 4 + 50);
  const auto split = data.split("train");
  std::vector<int64_t> all(split->size());
  for (int64_t i = 0; i < split->size(); ++i) all[i] = i;
  const auto b = split->batch(all);
  ASSERT_EQ(b.inputs.sizes(), (std::vector<int64_t>{300, 20}));
  std::vector<int64_t> per_class(3, 0);
  int64_t with_counter = 0;
  for (int64_t i = 0; i < 300; ++i) {
    std::vector<int64_t> count(3, 0);
    int64_t length = 0;
    for (int64_t t = 0; t < 20; ++t) {
      const int64_t tok = b.inputs[i][t].item<int64_t>();
      const bool padded = b.padding_mask[i][t].item<bool>();
      EXPECT_EQ(padded, tok == 0);
      if (padded) {
        EXPECT_EQ(b.rationale[i][t].item<int64_t>(), 0);
        continue;
      }
      ++length;
      const bool evidence = tok >= 1 && tok <= 12;
      const int64_t cls = evidence ? (tok - 1) / 4 : -1;
      if (evidence) ++count[cls];
      const int64_t y = b.labels[i].item<int64_t>();
      EXPECT_EQ(b.rationale[i][t].item<int64_t>(), cls == y ? 1 : 0);
    }
    EXPECT_GE(length, 8);
    EXPECT_LE(length, 20);
    const int64_t y = b.labels[i].item<int64_t>();
    ++per_class[y];
    EXPECT_GE(count[y], 2);
    EXPECT_LE(count[y], 4);
    int64_t others = 0;
    for (int64_t c = 0; c < 3; ++c) {
      if (c == y) continue;
      EXPECT_LT(count[c], count[y]) << "example " << i;  // the label is the majority evidence
      if (count[c] > 0) ++others;
    }
    EXPECT_LE(others, 1);
    if (others) ++with_counter;
  }
  EXPECT_EQ(per_class, (std::vector<int64_t>{100, 100, 100}));
  EXPECT_GT(with_counter, 60);   // p = 0.5 of examples with k > 1 (all here): ~150
  EXPECT_LT(with_counter, 240);
}

TEST(EvidenceText, SameSeedSameDataOtherSeedOtherData) {
  auto o = options();
  EvidenceTextDataset a(o), b(o);
  o.seed = 8;
  EvidenceTextDataset c(o);
  const std::vector<int64_t> idx = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_TRUE(torch::equal(a.split("val")->batch(idx).inputs, b.split("val")->batch(idx).inputs));
  EXPECT_FALSE(torch::equal(a.split("val")->batch(idx).inputs, c.split("val")->batch(idx).inputs));
  EXPECT_FALSE(torch::equal(a.split("val")->batch(idx).inputs, a.split("test")->batch(idx).inputs));
}

TEST(EvidenceText, BadOptionsNameThemselves) {
  auto o = options();
  o.min_length = 5;  // cannot hold 4 evidence + 3 counter-evidence words
  try {
    EvidenceTextDataset d(o);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "evidence_text: min_length (5) must hold 2*max_evidence-1 = 7 planted words");
  }
  EXPECT_THROW(EvidenceTextDataset(options()).split("dev"), DataError);
}

}  // namespace
}  // namespace attnlab::datasets
