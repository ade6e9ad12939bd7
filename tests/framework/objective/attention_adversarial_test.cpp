// Attention AT / iAT / RP (notes attention_regularizers.md §6, properties 1-13), on float64 models
// without dropout so every forward is deterministic.
#include <gtest/gtest.h>

#include <cmath>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_adversarial.h"
#include "regularizer_test_util.h"

namespace attnlab::objective {
namespace {

using namespace testing;

const auto kLabels = torch::tensor(std::vector<int64_t>{0, 2, 1});

AdversarialAttention make(const std::string& method, double eps, const std::string& mode = "code_negated_grad") {
  AdversarialAttentionOptions o;
  o.method = method;
  o.epsilon = eps;
  o.iat_mode = mode;
  return AdversarialAttention(o);
}

// dL_clean/ds for every recorded site, computed here directly.
std::map<std::string, torch::Tensor> score_grads(const CleanForward& c) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [site, s] : c.ctx.scores())
    out[site] = torch::autograd::grad({c.loss}, {s}, {}, true, false, true)[0];
  return out;
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

TEST(AttentionAt, EpsilonZeroIsCleanTrainingScaledByOnePlusLambda) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  const double lambda = 0.5;
  Objective objective(0.0, {{"attention_at", std::make_shared<AdversarialAttention>(make("at", 0.0)),
                             WeightSchedule{lambda, 0.0, "constant"}}});
  auto c = clean_forward(*model, in, kLabels);
  const auto terms = objective.compute(*model, in, kLabels, c->out, c->ctx, 0, 10);
  EXPECT_EQ(terms.terms.at(1).second.item<double>(), c->loss.item<double>());  // bit for bit
  terms.total.backward();
  const auto got = parameter_grads(*model);

  drop_grads(*model);
  auto again = clean_forward(*model, in, kLabels);
  ((1.0 + lambda) * again->loss).backward();
  const auto want = parameter_grads(*model);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], want[i]), 1e-12) << i;
}

TEST(AttentionAt, PerturbationHasNormEpsilonIsZeroAtPaddingSumsToZeroAndIsDetached) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto at = make("at", 0.7);
  at.compute(inputs_for(*model, in, kLabels, *c));
  ASSERT_EQ(at.last_perturbation().size(), 2u);  // layer0, layer1
  for (const auto& [site, r] : at.last_perturbation()) {
    EXPECT_FALSE(r.requires_grad());
    const auto norms = r.reshape({3, -1}).norm(2, 1);
    EXPECT_LT(max_abs_diff(norms, torch::full({3}, 0.7, torch::kDouble)), 1e-9) << site;
    // Padded keys get nothing: (B, H, Tq, Tk) at keys >= length.
    EXPECT_EQ(r[1].narrow(-1, 5, 4).abs().max().item<double>(), 0.0);
    EXPECT_EQ(r[0].narrow(-1, 7, 2).abs().max().item<double>(), 0.0);
    // Softmax is shift invariant per row, so the gradient, hence r, sums to 0 over each row's keys.
    EXPECT_LT(r.sum(-1).abs().max().item<double>(), 1e-12) << site;
  }
}

TEST(AttentionAt, DirectionIsTheGradientAndCodeIatIsItsNegation) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  const auto grads = score_grads(*c);
  auto at = make("at", 1.0);
  auto iat = make("iat", 1.0, "code_negated_grad");
  auto iat_j = make("iat", 1.0, "iadvt_batch_dirs_norm_j");
  at.compute(inputs_for(*model, in, kLabels, *c));
  iat.compute(inputs_for(*model, in, kLabels, *c));
  iat_j.compute(inputs_for(*model, in, kLabels, *c));
  for (size_t s = 0; s < 2; ++s) {
    const auto& [site, r] = at.last_perturbation()[s];
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(cosine(r[i], grads.at(site)[i]), 1.0, 1e-9);
      EXPECT_NEAR(cosine(iat.last_perturbation()[s].second[i], grads.at(site)[i]), -1.0, 1e-9);
    }
    // Normalising batch directions over partners makes every weight 1: the AT direction (§1.3).
    EXPECT_LT(max_abs_diff(iat_j.last_perturbation()[s].second, r), 1e-9) << site;
  }
}

TEST(AttentionAt, FirstOrderTheAdversaryRaisesTheLossAndCodeIatLowersIt) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  const auto grads = score_grads(*c);
  const double eps = 1e-5;
  // To first order, L(s + r) - L(s) = sum over sites and examples of eps * ||g_i||.
  double predicted = 0.0;
  for (const auto& [site, g] : grads) predicted += eps * g.reshape({3, -1}).norm(2, 1).sum().item<double>();
  auto at = make("at", eps);
  auto iat = make("iat", eps);
  const double up = at.compute(inputs_for(*model, in, kLabels, *c)).item<double>() - c->loss.item<double>();
  const double down = iat.compute(inputs_for(*model, in, kLabels, *c)).item<double>() - c->loss.item<double>();
  EXPECT_GT(up, 0.0);
  EXPECT_LT(down, 0.0);
  EXPECT_NEAR(up, predicted, 1e-3 * predicted);
  EXPECT_NEAR(down, -predicted, 1e-3 * predicted);
}

TEST(AttentionAt, ParameterGradientsAreThoseOfCleanPlusLambdaAdversarialOnly) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  const double lambda = 0.8;
  auto reg = std::make_shared<AdversarialAttention>(make("at", 1.5));
  Objective objective(0.0, {{"attention_at", reg, WeightSchedule{lambda, 0.0, "constant"}}});
  auto c = clean_forward(*model, in, kLabels);
  const auto terms = objective.compute(*model, in, kLabels, c->out, c->ctx, 0, 10);
  // Finding r took no backward: nothing has a gradient yet (the released code's P1 would).
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  terms.total.backward();
  const auto got = parameter_grads(*model);

  // Independently: the clean loss plus lambda times the loss under the same, frozen r.
  drop_grads(*model);
  auto again = clean_forward(*model, in, kLabels);
  attention::ForwardContext adv;
  for (const auto& [site, r] : reg->last_perturbation()) adv.set_perturbation(site, r);
  const auto adv_loss = torch::nn::functional::cross_entropy(model->forward(in, adv).logits, kLabels);
  (again->loss + lambda * adv_loss).backward();
  const auto want = parameter_grads(*model);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], want[i]), 1e-12) << i;
}

TEST(AttentionAt, ReferenceDoubleGradientFlagCountsTheCleanLossTwice) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  AdversarialAttentionOptions o;
  o.epsilon = 0.0;
  o.replicate_ref_double_grad = true;
  const double lambda = 0.5;
  Objective objective(0.0, {{"attention_at", std::make_shared<AdversarialAttention>(o), WeightSchedule{lambda, 0.0, "constant"}}});
  auto c = clean_forward(*model, in, kLabels);
  objective.compute(*model, in, kLabels, c->out, c->ctx, 0, 10).total.backward();
  const auto got = parameter_grads(*model);
  drop_grads(*model);
  auto again = clean_forward(*model, in, kLabels);
  ((2.0 + lambda) * again->loss).backward();  // the released code's effective 2 L + lambda L_adv
  const auto want = parameter_grads(*model);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], want[i]), 1e-12) << i;
}

TEST(AttentionAt, EachExamplesPerturbationIsIndependentOfItsBatch) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({6, 6, 6}, 6);
  for (const std::string method : {"at", "iat"}) {
    auto whole = make(method, 1.0);
    auto c = clean_forward(*model, in, kLabels);
    whole.compute(inputs_for(*model, in, kLabels, *c));
    const models::ModelInput one{in.inputs.narrow(0, 1, 1), in.padding_mask.narrow(0, 1, 1)};
    const auto label = kLabels.narrow(0, 1, 1);
    auto alone = make(method, 1.0);
    auto c1 = clean_forward(*model, one, label);
    alone.compute(inputs_for(*model, one, label, *c1));
    for (size_t s = 0; s < 2; ++s) {
      EXPECT_LT(max_abs_diff(alone.last_perturbation()[s].second[0], whole.last_perturbation()[s].second[1]), 1e-10)
          << method;
    }
  }
}

TEST(AttentionAt, BatchDirectionModesFallBackToAtForOneExample) {
  const auto g = torch::randn({1, 2, 3, 3}, torch::kDouble);
  const auto s = torch::randn({1, 2, 3, 3}, torch::kDouble);
  EXPECT_TRUE(torch::equal(attention::iat_direction(g, s, "iadvt_batch_dirs_norm_T"), g));
  EXPECT_TRUE(torch::equal(attention::iat_direction(g, s, "iadvt_batch_dirs_norm_j"), g));
}

TEST(AttentionAt, TokenNormalisedBatchDirectionsWeighByDifferenceFromBatchMates) {
  // Plain loops: weight_i,n = sum_j ((s_in - s_jn) / ||s_i - s_j||)^2.
  torch::manual_seed(4);
  const auto s = torch::randn({3, 5}, torch::kDouble);
  const auto g = torch::randn({3, 5}, torch::kDouble);
  const auto got = attention::iat_direction(g, s, "iadvt_batch_dirs_norm_T");
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t n = 0; n < 5; ++n) {
      double w = 0.0;
      for (int64_t j = 0; j < 3; ++j) {
        if (j == i) continue;
        const double norm = (s[i] - s[j]).norm().item<double>();
        w += std::pow((s[i][n] - s[j][n]).item<double>() / norm, 2);
      }
      EXPECT_NEAR(got[i][n].item<double>(), w * g[i][n].item<double>(), 1e-12);
    }
  }
}

TEST(AttentionRp, RandomDirectionWithNormEpsilon) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto rp = make("rp", 0.3);
  torch::manual_seed(10);
  rp.compute(inputs_for(*model, in, kLabels, *c));
  const auto first = rp.last_perturbation()[0].second.clone();
  torch::manual_seed(11);
  rp.compute(inputs_for(*model, in, kLabels, *c));
  const auto second = rp.last_perturbation()[0].second;
  EXPECT_LT(max_abs_diff(first.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.3, torch::kDouble)), 1e-9);
  EXPECT_GT(max_abs_diff(first, second), 1e-3);  // two seeds, two directions
  EXPECT_EQ(first[1].narrow(-1, 5, 4).abs().max().item<double>(), 0.0);
  // Over many draws the mean direction vanishes.
  auto mean = torch::zeros_like(first);
  for (int k = 0; k < 400; ++k) {
    rp.compute(inputs_for(*model, in, kLabels, *c));
    mean += rp.last_perturbation()[0].second / 400.0;
  }
  EXPECT_LT(mean.reshape({3, -1}).norm(2, 1).max().item<double>(), 0.1 * 0.3 * 2);
}

TEST(AttentionAt, UnknownSiteNamesTheSitesTheModelHas) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  AdversarialAttentionOptions o;
  o.sites = {"layer7"};
  AdversarialAttention at(o);
  try {
    at.compute(inputs_for(*model, in, kLabels, *c));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "attention_at: the model has no attention site 'layer7'; it has: layer0 layer1");
  }
}

}  // namespace
}  // namespace attnlab::objective
