// The papers' own metric definitions (notes §1.4 "ours", §1.5 baselines) on hand-computed tiny
// examples, one per quirk: abstain counted as correct and covered, set size 7 for an abstention,
// the label-leaking AUROC confidence, the confidence-deflated baseline AUARC, and np.digitize's
// right-closed ECE bins with conf exactly on an edge and conf == 0; then bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "framework/abstention/paper_compat_metrics.h"
#include "framework/abstention/selective_metrics.h"

namespace attnlab::abstention {
namespace {

MethodOutput make_output(const std::vector<std::vector<int>>& members, const std::vector<Decision>& decisions,
                         int64_t k) {
  MethodOutput out;
  out.method = "toy";
  out.sets = torch::zeros({static_cast<int64_t>(members.size()), k}, torch::kBool);
  for (size_t i = 0; i < members.size(); ++i)
    for (int c : members[i]) out.sets[static_cast<int64_t>(i)][c] = true;
  out.decisions = decisions;
  return out;
}

// Four items, K = 3: a right single, a wrong single, a set {0, 1} covering y = 1 (top member 0),
// an abstention.
struct Ours {
  torch::Tensor probs = torch::tensor(
      {{0.6, 0.3, 0.1}, {0.44, 0.4, 0.16}, {0.45, 0.35, 0.2}, {0.4, 0.3, 0.3}}, torch::kFloat64);
  MethodOutput out = make_output({{0}, {0}, {0, 1}, {}},
                                 {Decision::single, Decision::single, Decision::set, Decision::abstain}, 3);
};

TEST(PaperCompatOurs, AbstainCountsAsCorrectCoveredAndSevenWide) {
  const Ours o;
  const auto m = paper_compat_metrics(o.out, o.probs, torch::tensor({0, 1, 1, 2}), PaperCompatFlavor::ours);
  EXPECT_DOUBLE_EQ(m.accuracy, (1 + 0 + 0.5 + 1) / 4.0);  // partial credit 1/|S|, abstain = 1
  EXPECT_DOUBLE_EQ(m.coverage, 3 / 4.0);                  // abstain = covered
  EXPECT_DOUBLE_EQ(m.set_size, (1 + 1 + 2 + 7) / 4.0);    // len("abstain") = 7
  EXPECT_DOUBLE_EQ(m.uacc, m.accuracy * std::sqrt(3.0) / m.set_size);  // sqrt(K), K = 3 here
  EXPECT_DOUBLE_EQ(m.single_rate, 0.5);
  EXPECT_DOUBLE_EQ(m.set_rate, 0.25);
  EXPECT_DOUBLE_EQ(m.abstain_rate, 0.25);
  // One abstention and one right single: set size (7 + 1)/2 = 4, accuracy and coverage 1.
  const auto two = make_output({{}, {2}}, {Decision::abstain, Decision::single}, 3);
  const auto m2 = paper_compat_metrics(two, o.probs.slice(0, 0, 2), torch::tensor({1, 2}), PaperCompatFlavor::ours);
  EXPECT_DOUBLE_EQ(m2.set_size, 4.0);
  EXPECT_DOUBLE_EQ(m2.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(m2.coverage, 1.0);
}

TEST(PaperCompatOurs, AurocConfidenceLeaksTheLabel) {
  const Ours o;
  // Same predictions and probabilities; only which member of the set {0, 1} is the true label
  // differs. The set's confidence 0.7·max_S p + 0.3·p_y moves with y: 0.45 (y = 0) vs 0.42 (y = 1),
  // across the wrong single's 0.44, so the AUROC changes: 1 vs 2/3.
  const auto y0 = paper_compat_metrics(o.out, o.probs, torch::tensor({0, 1, 0, 2}), PaperCompatFlavor::ours);
  const auto y1 = paper_compat_metrics(o.out, o.probs, torch::tensor({0, 1, 1, 2}), PaperCompatFlavor::ours);
  EXPECT_DOUBLE_EQ(y0.auroc, 1.0);
  EXPECT_DOUBLE_EQ(y1.auroc, 2.0 / 3.0);
  // 0.5 when only one class is present or the confidence is constant (clean AUROC: NaN / 0.5).
  EXPECT_EQ(paper_auroc({0.1, 0.2}, {true, true}), 0.5);
  EXPECT_TRUE(std::isnan(auroc_correct({0.1, 0.2}, {true, true})));
  EXPECT_EQ(paper_auroc({0.3, 0.3, 0.3}, {true, false, true}), 0.5);
  EXPECT_EQ(paper_auroc({0.9, 0.3, 0.3}, {true, false, true}), 0.75);  // tie counts 1/2
  const auto all_abstain = make_output({{}, {}}, {Decision::abstain, Decision::abstain}, 3);
  const auto m = paper_compat_metrics(all_abstain, o.probs.slice(0, 0, 2), torch::tensor({0, 1}),
                                      PaperCompatFlavor::ours);
  EXPECT_EQ(m.auroc, 0.5);
  EXPECT_EQ(m.accuracy, 1.0);
  EXPECT_EQ(m.coverage, 1.0);
  EXPECT_EQ(m.set_size, 7.0);
  EXPECT_EQ(m.ece, 0.0);  // every item abstained: nothing to bin
}

TEST(PaperCompatOurs, AuarcAndSetMassEce) {
  const Ours o;
  const auto m = paper_compat_metrics(o.out, o.probs, torch::tensor({0, 1, 1, 2}), PaperCompatFlavor::ours);
  // AUARC: (conf, correct) = (0.6, 1), (0.44, 0), (max_S p = 0.45, 1), (abstain 1.0, 1); descending
  // 1.0, 0.6, 0.45, 0.44 -> mean accuracy 1, 1, 1, 3/4 at x = 0, 1/3, 2/3, 1; trapezoid.
  EXPECT_NEAR(m.auarc, (1.0 + 1.0 + 0.875) / 3.0, 1e-15);
  // ECE over the 3 answered items, the set's confidence = its mass 0.45 + 0.35 = 0.8; every item
  // alone in its bin: (|0.6 - 1| + |0.44 - 0| + |0.8 - 1|)/3.
  EXPECT_NEAR(m.ece, (0.4 + 0.44 + 0.2) / 3.0, 1e-15);
}

TEST(PaperCompatBaseline, PartialCreditAndDeflatedAuarc) {
  const auto probs = torch::tensor({{0.7, 0.2, 0.1}, {0.5, 0.4, 0.1}, {0.45, 0.35, 0.2}}, torch::kFloat64);
  const auto out = make_output({{0}, {0, 1}, {0, 1}}, {Decision::single, Decision::set, Decision::set}, 3);
  const auto labels = torch::tensor({0, 1, 2});
  const auto m = paper_compat_metrics(out, probs, labels, PaperCompatFlavor::baseline);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.5 / 3);
  EXPECT_DOUBLE_EQ(m.coverage, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.set_size, 5.0 / 3);
  EXPECT_DOUBLE_EQ(m.uacc, 0.5 * std::sqrt(3.0) / (5.0 / 3));
  EXPECT_DOUBLE_EQ(m.auroc, 1.0);  // (max_S p, y in S): 0.7, 0.5 covered over 0.45 not
  // AUARC with correctness·confidence: (0.7, 0.5, 0) -> mean 0.7, 0.6, 0.4 at x = 0, 1/2, 1.
  EXPECT_NEAR(m.auarc, 0.5 * (0.7 + 0.6) / 2 + 0.5 * (0.6 + 0.4) / 2, 1e-15);
  const double undeflated = paper_auarc({0.7, 0.5, 0.45}, {1, 1, 0});
  EXPECT_NEAR(undeflated, 0.5 * (1 + 1) / 2 + 0.5 * (1 + 2.0 / 3) / 2, 1e-15);
  EXPECT_LT(m.auarc, undeflated);
  // ECE with conf = max_S p (not the mass): bins 11, 8, 7 -> (0.3 + 0.5 + 0.45)/3.
  EXPECT_NEAR(m.ece, (0.3 + 0.5 + 0.45) / 3, 1e-15);
  EXPECT_DOUBLE_EQ(m.single_rate, 1.0 / 3);
  // A baseline never abstains.
  const auto with_abstain = make_output({{0}, {}, {0, 1}}, {Decision::single, Decision::abstain, Decision::set}, 3);
  EXPECT_THROW(paper_compat_metrics(with_abstain, probs, labels, PaperCompatFlavor::baseline),
               std::invalid_argument);
}

TEST(PaperCompatEce, DigitizeRightClosedEdgesAndZeroConfidence) {
  // numpy's linspace(0, 1, 16): b·(1/15), last exactly 1; np.digitize(right=True) = #edges < conf.
  const auto edge = [](int b) { return b == 15 ? 1.0 : b * (1.0 / 15); };
  for (int b = 1; b <= 15; ++b) {
    EXPECT_EQ(paper_ece_bin(edge(b), 15), b);            // on an edge: the bin it closes
    EXPECT_EQ(paper_ece_bin(std::nextafter(edge(b), 2.0), 15), b == 15 ? 16 : b + 1);
  }
  EXPECT_EQ(paper_ece_bin(0.0, 15), 0);          // conf == 0: bin 0, never summed
  EXPECT_EQ(paper_ece_bin(1.0 + 1e-15, 15), 16);  // a set mass rounding above 1: dropped too
  // conf exactly on edge 2 joins the lower bin (0.0667, 0.1333] with 0.1233, not 0.1433.
  const double e2 = edge(2);
  const std::vector<double> conf = {e2, e2 + 0.01, e2 - 0.01};
  const std::vector<double> right = {1, 0, 0};
  const double gap_low = std::abs((e2 + e2 - 0.01) / 2 - 0.5), gap_high = std::abs(e2 + 0.01);
  EXPECT_NEAR(paper_ece(conf, right), (2 * gap_low + gap_high) / 3, 1e-15);
  // conf == 0 is dropped from the numerator but stays in N: only the 0.5 item's gap counts, /3.
  EXPECT_NEAR(paper_ece({0.0, 0.0, 0.5}, {0, 1, 1}), 0.5 / 3, 1e-15);
  // The clean ECE puts conf == 0 into the first bin instead: 0.5·2/3 + 0.5·1/3.
  EXPECT_NEAR(calibration_error({0.0, 0.0, 0.5}, {false, true, true}).ece, 0.5, 1e-15);
  EXPECT_EQ(paper_ece({}, {}), 0.0);
  // Through the metrics: a single with p_pred exactly 0 is impossible (it is the arg-max), but a set
  // with mass > 1 by rounding would be dropped; an empty baseline set has confidence 0 (dropped, in N).
  const auto probs = torch::tensor({{0.5, 0.5}, {0.9, 0.1}}, torch::kFloat64);
  const auto out = make_output({{}, {0}}, {Decision::set, Decision::single}, 2);
  const auto m = paper_compat_metrics(out, probs, torch::tensor({0, 0}), PaperCompatFlavor::baseline);
  EXPECT_NEAR(m.ece, std::abs(0.9 - 1.0) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(m.coverage, 0.5);
}

TEST(PaperCompatAuarc, LinspaceTrapezoidAndEdgeCases) {
  EXPECT_TRUE(std::isnan(paper_auarc({0.5}, {1})));  // sklearn's auc needs two points
  EXPECT_DOUBLE_EQ(paper_auarc({0.9, 0.1}, {1, 0}), (1 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(paper_auarc({0.1, 0.9}, {1, 0}), (0 + 0.5) / 2);
  // Ties keep the reverse of a stable ascending sort: the later item comes first.
  EXPECT_DOUBLE_EQ(paper_auarc({0.5, 0.5}, {1, 0}), (0 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(paper_auarc({0.5, 0.5}, {0, 1}), (1 + 0.5) / 2);
}

TEST(PaperCompatInput, BadInputThrowsInvalidArgument) {
  const Ours o;
  const auto labels = torch::tensor({0, 1, 1, 2});
  const auto throws = [](auto&& f) { EXPECT_THROW(f(), std::invalid_argument); };
  throws([&] { paper_compat_metrics(o.out, o.probs.slice(0, 0, 3), labels, PaperCompatFlavor::ours); });
  throws([&] { paper_compat_metrics(o.out, o.probs, labels.slice(0, 0, 3), PaperCompatFlavor::ours); });
  throws([&] { paper_compat_metrics(o.out, o.probs, labels + 3, PaperCompatFlavor::ours); });
  throws([&] { paper_compat_metrics(o.out, o.probs[0], labels, PaperCompatFlavor::ours); });
  MethodOutput fewer = o.out;
  fewer.decisions.pop_back();
  throws([&] { paper_compat_metrics(fewer, o.probs, labels, PaperCompatFlavor::ours); });
  MethodOutput two_label_single = o.out;
  two_label_single.sets = o.out.sets.clone();
  two_label_single.sets[0][1] = true;
  throws([&] { paper_compat_metrics(two_label_single, o.probs, labels, PaperCompatFlavor::ours); });
  MethodOutput wrong_width = o.out;
  wrong_width.sets = torch::zeros({4, 2}, torch::kBool);
  throws([&] { paper_compat_metrics(wrong_width, o.probs, labels, PaperCompatFlavor::ours); });
  throws([] { paper_auarc({0.1, 0.2}, {1}); });
  throws([] { paper_ece({0.1}, {1}, 0); });
  throws([] { paper_auroc({std::nan("")}, {true}); });
  try {
    paper_compat_metrics(fewer, o.probs, labels, PaperCompatFlavor::ours);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("paper_compat_metrics"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnlab::abstention
