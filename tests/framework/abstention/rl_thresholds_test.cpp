// The REINFORCE threshold learner (notes §1.3, §8) against the notes' §7.20 properties: the clamps
// hold over every epoch (both variants), lr = 0 moves the thresholds only by clamped noise with the
// policy unchanged, one step with a positive reward raises the sampled action's log-probability, a
// fixed seed gives a bit-identical run, and the sound variant never sees test labels (by signature,
// and by a full learn-then-evaluate flow whose thresholds ignore a permutation of the test labels).
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "framework/abstention/cap_policy.h"
#include "framework/abstention/paper_compat_metrics.h"
#include "framework/abstention/rl_thresholds.h"
#include "tests/framework/abstention/synthetic_probs.h"

namespace attnlab::abstention {
namespace {

using testing::Data;
using testing::synthetic;

bool same_parameters(ThresholdPolicy& a, ThresholdPolicy& b) {
  const auto pa = a->parameters(), pb = b->parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (!torch::equal(pa[i], pb[i])) return false;
  return true;
}

void expect_inside(const RlThresholdResult& r, const RlThresholdOptions& o) {
  for (const auto& t : r.trajectory) {
    EXPECT_GE(t.alpha, o.alpha_min);
    EXPECT_LE(t.alpha, o.alpha_max);
    EXPECT_GE(t.beta, o.beta_min);
    EXPECT_LE(t.beta, o.beta_max);
  }
}

void expect_identical(const RlThresholdResult& a, const RlThresholdResult& b) {
  ASSERT_EQ(a.rewards.size(), b.rewards.size());
  for (size_t e = 0; e < a.rewards.size(); ++e) {
    EXPECT_EQ(a.rewards[e], b.rewards[e]);
    EXPECT_EQ(a.trajectory[e].alpha, b.trajectory[e].alpha);
    EXPECT_EQ(a.trajectory[e].beta, b.trajectory[e].beta);
    EXPECT_EQ(a.deltas[e], b.deltas[e]);
  }
  EXPECT_EQ(a.thresholds.alpha, b.thresholds.alpha);
  EXPECT_EQ(a.thresholds.beta, b.thresholds.beta);
}

TEST(RlPolicy, PositiveRewardStepRaisesTheSampledLogProb) {
  for (uint64_t seed = 0; seed < 5; ++seed) {
    auto policy = make_threshold_policy(2, 64, seed);
    torch::optim::Adam optimizer(policy->parameters(), torch::optim::AdamOptions(1e-3));
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed + 100);
    const auto state = torch::tensor({0.85, 0.025}, torch::kFloat64);
    const auto sample = sample_threshold_action(policy, state, generator);
    const double before = sample.log_prob.item<double>();
    EXPECT_NEAR(before, threshold_action_log_prob(policy, state, sample.delta).item<double>(), 1e-12);
    reinforce_step(optimizer, sample.log_prob, 1.0);
    const double after = threshold_action_log_prob(policy, state, sample.delta).item<double>();
    EXPECT_GT(after, before) << "seed " << seed;
    // A negative reward pushes the other way.
    const auto again = threshold_action_log_prob(policy, state, sample.delta);
    reinforce_step(optimizer, again, -1.0);
    EXPECT_LT(threshold_action_log_prob(policy, state, sample.delta).item<double>(), after);
  }
}

TEST(RlPolicy, SeededInitLeavesTheGlobalGeneratorAlone) {
  torch::manual_seed(5);
  const auto expected = torch::rand({4});
  torch::manual_seed(5);
  auto a = make_threshold_policy(2, 64, 11);
  const auto got = torch::rand({4});
  EXPECT_TRUE(torch::equal(expected, got));
  auto b = make_threshold_policy(2, 64, 11);
  auto c = make_threshold_policy(2, 64, 12);
  EXPECT_TRUE(same_parameters(a, b));
  EXPECT_FALSE(same_parameters(a, c));
  EXPECT_EQ(a->parameters()[0].scalar_type(), torch::kFloat64);
  // Linear's default range: |w| <= 1/sqrt(fan_in).
  EXPECT_LE(a->fc->weight.abs().max().item<double>(), 1 / std::sqrt(2.0));
  EXPECT_LE(a->mean_head->weight.abs().max().item<double>(), 1 / 8.0);
}

TEST(RlBounds, ClampsHoldOverAllEpochsInBothVariants) {
  const auto cal = synthetic(150, 6, 1.5, 1);
  const auto test = synthetic(150, 6, 1.5, 2);
  SoundRlOptions o;
  o.epochs = 40;
  o.learning_rate = 0.05;
  o.adjustment_scale = 0.05;  // ten times the paper's step, so the walk hits the clamps
  o.seed = 3;
  const auto paper = learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o);
  const auto sound = learn_thresholds_sound(cal.probs, cal.labels, o);
  for (const auto* r : {&paper, &sound}) {
    ASSERT_EQ(r->trajectory.size(), 40u);
    expect_inside(*r, o);
    const bool hit = std::any_of(r->trajectory.begin(), r->trajectory.end(), [&](const CapThresholds& t) {
      return t.alpha == o.alpha_min || t.alpha == o.alpha_max || t.beta == o.beta_min || t.beta == o.beta_max;
    });
    EXPECT_TRUE(hit);
  }
  // Configurable bounds.
  SoundRlOptions narrow = o;
  narrow.alpha_min = 0.6, narrow.alpha_max = 0.62, narrow.beta_min = 0.1, narrow.beta_max = 0.1;
  narrow.init = {0.61, 0.1};
  const auto r = learn_thresholds_sound(cal.probs, cal.labels, narrow);
  expect_inside(r, narrow);
  for (const auto& t : r.trajectory) EXPECT_EQ(t.beta, 0.1);
}

TEST(RlBounds, ZeroLearningRateMovesOnlyByClampedNoise) {
  const auto cal = synthetic(120, 6, 1.5, 4);
  const auto test = synthetic(120, 6, 1.5, 5);
  RlThresholdOptions o;
  o.epochs = 25;
  o.learning_rate = 0.0;
  o.seed = 8;
  const auto r = learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o);
  auto initial = make_threshold_policy(2, o.hidden, o.seed);
  auto trained = r.policy;
  EXPECT_TRUE(same_parameters(initial, trained));  // the policy never moved
  CapThresholds previous = o.init;
  for (size_t e = 0; e < r.trajectory.size(); ++e) {
    const auto d = torch::tensor({r.deltas[e][0], r.deltas[e][1]}, torch::kFloat64);
    const auto expected = apply_threshold_action(previous, d, o);
    EXPECT_EQ(r.trajectory[e].alpha, expected.alpha);
    EXPECT_EQ(r.trajectory[e].alpha, std::clamp(previous.alpha + 0.005 * r.deltas[e][0], 0.75, 0.90));
    EXPECT_EQ(r.trajectory[e].beta, std::clamp(previous.beta + 0.005 * r.deltas[e][1], 0.01, 0.05));
    previous = r.trajectory[e];
  }
  // The reward has no influence: other test labels give other rewards but the same walk.
  const auto shuffled = test.labels.flip(0);
  const auto r2 = learn_thresholds_paper(cal.probs, cal.labels, test.probs, shuffled, o);
  EXPECT_NE(r.rewards, r2.rewards);
  for (size_t e = 0; e < r.trajectory.size(); ++e) {
    EXPECT_EQ(r.deltas[e], r2.deltas[e]);
    EXPECT_EQ(r.trajectory[e].alpha, r2.trajectory[e].alpha);
  }
}

TEST(RlReproducibility, FixedSeedIsBitIdentical) {
  const auto cal = synthetic(150, 6, 1.5, 6);
  const auto test = synthetic(150, 6, 1.5, 7);
  SoundRlOptions o;
  o.epochs = 20;
  o.learning_rate = 0.01;
  o.seed = 21;
  expect_identical(learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o),
                   learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o));
  auto a = learn_thresholds_sound(cal.probs, cal.labels, o);
  auto b = learn_thresholds_sound(cal.probs, cal.labels, o);
  expect_identical(a, b);
  EXPECT_TRUE(same_parameters(a.policy, b.policy));
  EXPECT_EQ(a.tuning_indices, b.tuning_indices);
  SoundRlOptions other = o;
  other.seed = 22;
  const auto c = learn_thresholds_sound(cal.probs, cal.labels, other);
  EXPECT_NE(a.deltas, c.deltas);
  EXPECT_NE(a.tuning_indices, c.tuning_indices);
}

TEST(RlPaper, ReturnsTheLastEpochAndSelectsOnTestData) {
  const auto cal = synthetic(150, 6, 1.5, 8);
  const auto test = synthetic(150, 6, 1.5, 9);
  RlThresholdOptions o;
  o.epochs = 15;
  o.seed = 2;
  const auto r = learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels, o);
  EXPECT_EQ(r.thresholds.alpha, r.trajectory.back().alpha);
  EXPECT_EQ(r.thresholds.beta, r.trajectory.back().beta);
  EXPECT_EQ(r.last.alpha, r.trajectory.back().alpha);
  EXPECT_TRUE(r.tuning_indices.empty());
  // The reward is read on the test split: other test labels, other rewards.
  const auto r2 = learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels.flip(0), o);
  EXPECT_NE(r.rewards, r2.rewards);
}

TEST(RlSound, ChoosesTheBestTuningRewardOnASeededSplit) {
  const auto cal = synthetic(201, 6, 1.5, 10);
  SoundRlOptions o;
  o.epochs = 20;
  o.learning_rate = 0.01;
  o.seed = 4;
  const auto r = learn_thresholds_sound(cal.probs, cal.labels, o);
  const auto best = std::max_element(r.rewards.begin(), r.rewards.end()) - r.rewards.begin();
  EXPECT_EQ(r.best_reward, r.rewards[static_cast<size_t>(best)]);
  EXPECT_EQ(r.thresholds.alpha, r.trajectory[static_cast<size_t>(best)].alpha);
  EXPECT_EQ(r.thresholds.beta, r.trajectory[static_cast<size_t>(best)].beta);
  EXPECT_EQ(r.last.alpha, r.trajectory.back().alpha);
  // The split partitions the calibration rows; tuning share = llround(201·0.5) = 101.
  EXPECT_EQ(r.tuning_indices.size(), 101u);
  EXPECT_EQ(r.conformal_indices.size(), 100u);
  std::vector<int64_t> all = r.conformal_indices;
  all.insert(all.end(), r.tuning_indices.begin(), r.tuning_indices.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 201; ++i) EXPECT_EQ(all[static_cast<size_t>(i)], i);
  // Each reward is the tuning part's reward at that epoch's thresholds with hard decisions.
  const auto pick = [](const torch::Tensor& t, const std::vector<int64_t>& rows) {
    return t.index_select(0, torch::tensor(rows, torch::kLong));
  };
  const auto out = abstention_cp(pick(cal.probs, r.conformal_indices), pick(cal.labels, r.conformal_indices),
                                 pick(cal.probs, r.tuning_indices), r.trajectory[3]);
  EXPECT_EQ(r.rewards[3], cap_reward(cap_summary(out.output, pick(cal.labels, r.tuning_indices))));
  // Per-input features extend the state to 4 inputs.
  SoundRlOptions f = o;
  f.tuning_features = true;
  const auto rf = learn_thresholds_sound(cal.probs, cal.labels, f);
  EXPECT_EQ(rf.policy->fc->options.in_features(), 4);
  expect_inside(rf, f);
}

// The comparison flow: learn on calibration data only, then evaluate on the test split.
struct Flow {
  RlThresholdResult learned;
  CapSummary summary;
  PaperCompatMetrics metrics;
};
Flow sound_flow(const Data& cal, const torch::Tensor& test_probs, const torch::Tensor& test_labels,
                const SoundRlOptions& o) {
  Flow f;
  f.learned = learn_thresholds_sound(cal.probs, cal.labels, o);
  const auto out = abstention_cp(cal.probs, cal.labels, test_probs, f.learned.thresholds);
  f.summary = cap_summary(out.output, test_labels);
  f.metrics = paper_compat_metrics(out.output, test_probs, test_labels, PaperCompatFlavor::ours);
  return f;
}

TEST(RlSound, NeverReadsTestLabels) {
  // By construction: the signature holds calibration data and options only.
  static_assert(std::is_same_v<decltype(&learn_thresholds_sound),
                               RlThresholdResult (*)(const torch::Tensor&, const torch::Tensor&,
                                                     const SoundRlOptions&)>);
  const auto cal = synthetic(160, 6, 1.5, 11);
  const auto test = synthetic(160, 6, 1.5, 12);
  SoundRlOptions o;
  o.epochs = 20;
  o.learning_rate = 0.01;
  o.seed = 5;
  const auto a = sound_flow(cal, test.probs, test.labels, o);
  const auto permuted = test.labels.roll(1);  // a fixed permutation of the test labels
  ASSERT_FALSE(torch::equal(permuted, test.labels));
  const auto b = sound_flow(cal, test.probs, permuted, o);
  expect_identical(a.learned, b.learned);  // the chosen thresholds: bit-identical
  EXPECT_NE(a.summary.accuracy, b.summary.accuracy);  // while the test metrics move
  EXPECT_NE(a.metrics.accuracy, b.metrics.accuracy);
}

TEST(RlInput, BadInputThrowsInvalidArgument) {
  const auto cal = synthetic(40, 4, 1.0, 13);
  const auto test = synthetic(30, 4, 1.0, 14);
  const auto throws = [](auto&& f) { EXPECT_THROW(f(), std::invalid_argument); };
  const auto sound_with = [&](auto&& edit) {
    SoundRlOptions o;
    o.epochs = 2;
    edit(o);
    return [&cal, o] { learn_thresholds_sound(cal.probs, cal.labels, o); };
  };
  throws(sound_with([](SoundRlOptions& o) { o.init.alpha = 0.95; }));   // outside [0.75, 0.90]
  throws(sound_with([](SoundRlOptions& o) { o.init.beta = 0.005; }));   // outside [0.01, 0.05]
  throws(sound_with([](SoundRlOptions& o) { o.alpha_min = 0.9, o.alpha_max = 0.8; }));
  throws(sound_with([](SoundRlOptions& o) { o.beta_max = 1.0; }));
  throws(sound_with([](SoundRlOptions& o) { o.beta_min = 0.0; }));
  throws(sound_with([](SoundRlOptions& o) { o.epochs = 0; }));
  throws(sound_with([](SoundRlOptions& o) { o.learning_rate = -1e-3; }));
  throws(sound_with([](SoundRlOptions& o) { o.tuning_fraction = 1.0; }));
  throws(sound_with([](SoundRlOptions& o) { o.tuning_fraction = 0.0; }));
  throws(sound_with([](SoundRlOptions& o) { o.baseline_momentum = 1.0; }));
  throws([&] {
    learn_thresholds_sound(torch::empty({0, 4}, torch::kFloat64), torch::empty({0}, torch::kLong), {});
  });
  throws([&] { learn_thresholds_sound(cal.probs.slice(0, 0, 1), cal.labels.slice(0, 0, 1), {}); });
  throws([&] { learn_thresholds_sound(cal.probs, cal.labels.slice(0, 0, 5), {}); });
  throws([&] { learn_thresholds_paper(cal.probs, cal.labels, test.probs, test.labels.slice(0, 0, 3), {}); });
  throws([&] { learn_thresholds_paper(cal.probs, cal.labels, synthetic(5, 3, 1.0, 1).probs,
                                      torch::zeros({5}, torch::kLong), {}); });
  throws([&] {
    learn_thresholds_paper(torch::empty({0, 4}, torch::kFloat64), torch::empty({0}, torch::kLong), test.probs,
                           test.labels, {});
  });
  auto policy = make_threshold_policy(2, 8, 0);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  throws([&] { sample_threshold_action(policy, torch::zeros({3}, torch::kFloat64), generator); });
  throws([&] { threshold_action_log_prob(policy, torch::zeros({2}, torch::kFloat64), torch::zeros({3})); });
  throws([&] { apply_threshold_action({0.85, 0.025}, torch::zeros({3}), RlThresholdOptions{}); });
  try {
    SoundRlOptions o;
    o.init.alpha = 0.5;
    learn_thresholds_sound(cal.probs, cal.labels, o);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("learn_thresholds_sound"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("alpha"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnlab::abstention
