// Semi-supervised training's pieces: the stratified labelled subset, the subset split, and the
// objective's mean of label-free terms over the labelled and unlabelled examples together.
#include "framework/train/semi_supervised.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "framework/objective/objective.h"

namespace attnlab::train {
namespace {

TEST(LabelledSubset, ExactSizeStratifiedSortedAndSeeded) {
  // 60 of class 0, 30 of class 1, 10 of class 2.
  std::vector<int64_t> y;
  for (int i = 0; i < 100; ++i) y.push_back(i % 10 == 0 ? 2 : (i % 3 == 0 ? 1 : 0));
  const auto labels = torch::tensor(y);
  std::map<int64_t, int64_t> counts;
  for (auto v : y) ++counts[v];
  for (const int64_t n : {1, 7, 20, 33, 100}) {
    const auto subset = labelled_subset(labels, n, 3);
    ASSERT_EQ(static_cast<int64_t>(subset.size()), n);
    EXPECT_TRUE(std::is_sorted(subset.begin(), subset.end()));
    EXPECT_EQ(std::set<int64_t>(subset.begin(), subset.end()).size(), subset.size());
    std::map<int64_t, int64_t> got;
    for (auto i : subset) ++got[y[i]];
    for (const auto& [c, total] : counts) {
      const double share = static_cast<double>(n) * total / 100.0;
      EXPECT_GE(got[c], static_cast<int64_t>(share)) << n << " class " << c;
      EXPECT_LE(got[c], static_cast<int64_t>(share) + 1) << n << " class " << c;
    }
  }
  EXPECT_EQ(labelled_subset(labels, 20, 3), labelled_subset(labels, 20, 3));
  EXPECT_NE(labelled_subset(labels, 20, 3), labelled_subset(labels, 20, 4));
  EXPECT_THROW(labelled_subset(labels, 0, 3), std::invalid_argument);
  EXPECT_THROW(labelled_subset(labels, 101, 3), std::invalid_argument);
}

class Numbered : public datasets::Split {
 public:
  int64_t size() const override { return 10; }
  datasets::Batch batch(const std::vector<int64_t>& idx) const override {
    datasets::Batch b;
    b.inputs = torch::tensor(idx).unsqueeze(1);
    b.labels = torch::tensor(idx);
    return b;
  }
};

TEST(SubsetSplit, RenumbersThePositions) {
  SubsetSplit s(std::make_shared<Numbered>(), {2, 5, 9});
  EXPECT_EQ(s.size(), 3);
  EXPECT_TRUE(s.batch({2, 0}).labels.equal(torch::tensor(std::vector<int64_t>{9, 2})));
  EXPECT_THROW(SubsetSplit(std::make_shared<Numbered>(), {10}), std::out_of_range);
}

// A term that returns the batch size (so the combination is visible) and may or may not read labels.
struct SizeTerm : objective::Regularizer {
  bool label_free;
  explicit SizeTerm(bool f) : label_free(f) {}
  bool reads_labels() const override { return !label_free; }
  torch::Tensor compute(const objective::RegularizerInputs& in) override {
    if (!label_free) EXPECT_TRUE(in.labels.defined());
    return torch::tensor(static_cast<double>(in.clean.logits.size(0)));
  }
};

struct Dummy : models::Model {
  models::ModelOutput forward(const models::ModelInput&, attention::ForwardContext&) override { return {}; }
};

TEST(SemiSupervisedObjective, LabelFreeTermsAreAveragedOverBothBatchesOthersSeeOnlyTheLabelled) {
  objective::Objective obj(0.0, {{"free", std::make_shared<SizeTerm>(true), {1.0, 0.0, "constant"}},
                                 {"labelled", std::make_shared<SizeTerm>(false), {1.0, 0.0, "constant"}}});
  EXPECT_TRUE(obj.has_label_free_terms());
  Dummy model;
  const models::ModelInput in{torch::zeros({2, 3}), {}};
  const models::ModelOutput clean{torch::zeros({2, 4}, torch::kDouble), {}};
  const models::ModelOutput unlabelled_out{torch::zeros({6, 4}, torch::kDouble), {}};
  attention::ForwardContext ctx, uctx;
  const auto labels = torch::tensor(std::vector<int64_t>{0, 1});
  const objective::UnlabelledForward u{in, unlabelled_out, uctx};
  const auto terms = obj.compute(model, in, labels, clean, ctx, 0, 1, &u);
  // free: (2 * 2 + 6 * 6) / 8 = 5; labelled: 2.
  EXPECT_DOUBLE_EQ(terms.terms.at(1).second.item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(terms.terms.at(2).second.item<double>(), 2.0);
  const auto without = obj.compute(model, in, labels, clean, ctx, 0, 1);
  EXPECT_DOUBLE_EQ(without.terms.at(1).second.item<double>(), 2.0);
}

}  // namespace
}  // namespace attnlab::train
