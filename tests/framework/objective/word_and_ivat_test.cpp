// Word AT / RP / VAT (perturbations of the embeddings, the papers' baselines) and attention iVAT:
// the notes' §6 properties that carry over (norm, padding, direction, no gradient pollution, label
// blindness), and iVAT's relation to VAT under each iAT reading.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/objective/attention_adversarial.h"
#include "framework/objective/attention_vat.h"
#include "regularizer_test_util.h"

namespace attnlab::objective {
namespace {

using namespace testing;

const auto kLabels = torch::tensor(std::vector<int64_t>{0, 2, 1});

AdversarialAttention make_word(const std::string& method, double eps) {
  AdversarialAttentionOptions o;
  o.method = method;
  o.epsilon = eps;
  o.target = "embeddings";
  return AdversarialAttention(o);
}

VirtualAdversarialAttention make_vat(double eps, const std::string& target, bool interpretable = false,
                                     const std::string& mode = "code_negated_grad") {
  VirtualAdversarialAttentionOptions o;
  o.epsilon = eps;
  o.target = target;
  o.interpretable = interpretable;
  o.iat_mode = mode;
  return VirtualAdversarialAttention(o);
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a * b).sum().item<double>() / (a.norm().item<double>() * b.norm().item<double>());
}

class WordAtOn : public ::testing::TestWithParam<std::string> {};

TEST_P(WordAtOn, PerturbationIsTheEmbeddingGradientWithNormEpsilonZeroAtPadding) {
  auto model = tiny_model(GetParam());
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  ASSERT_EQ(c->ctx.embeddings().count("embed"), 1u);
  const auto e = c->ctx.embeddings().at("embed");
  const auto g = torch::autograd::grad({c->loss}, {e}, {}, true, false, true)[0]
                     .masked_fill(in.padding_mask.unsqueeze(-1), 0.0);
  auto at = make_word("at", 0.3);
  at.compute(inputs_for(*model, in, kLabels, *c));
  ASSERT_EQ(at.last_perturbation().size(), 1u);
  const auto& [site, r] = at.last_perturbation()[0];
  EXPECT_EQ(site, "embed");
  EXPECT_EQ(r.sizes(), e.sizes());
  EXPECT_FALSE(r.requires_grad());
  EXPECT_LT(max_abs_diff(r.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.3, torch::kDouble)), 1e-9);
  EXPECT_EQ(r[1].narrow(0, 5, 4).abs().max().item<double>(), 0.0);  // padded tokens of example 1
  for (int64_t i = 0; i < 3; ++i) EXPECT_GT(cosine(r[i], g[i]), 1.0 - 1e-9) << i;
}

INSTANTIATE_TEST_SUITE_P(Models, WordAtOn, ::testing::Values("bilstm", "mha"));

TEST(WordAt, ParameterGradientsAreThoseOfCleanPlusLambdaAdversarialOnly) {
  auto model = tiny_model("bilstm");
  const auto in = padded_batch({7, 5, 9}, 9);
  const double lambda = 0.7;
  auto at = std::make_shared<AdversarialAttention>(make_word("at", 0.4));
  Objective objective(0.0, {{"word_at", at, WeightSchedule{lambda, 0.0, "constant"}}});
  auto c = clean_forward(*model, in, kLabels);
  objective.compute(*model, in, kLabels, c->out, c->ctx, 0, 10).total.backward();
  const auto got = parameter_grads(*model);

  // Independently: L(clean) + lambda * L(e + r) with the same r frozen.
  drop_grads(*model);
  attention::ForwardContext plain, adv;
  adv.set_perturbation("embed", at->last_perturbation()[0].second);
  const auto clean = torch::nn::functional::cross_entropy(model->forward(in, plain).logits, kLabels);
  const auto perturbed = torch::nn::functional::cross_entropy(model->forward(in, adv).logits, kLabels);
  (clean + lambda * perturbed).backward();
  const auto want = parameter_grads(*model);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], want[i]), 1e-12) << i;
  EXPECT_GT(perturbed.item<double>(), clean.item<double>());  // the adversary raises the loss
}

TEST(WordAt, EpsilonZeroGivesTheCleanLossAndRpHasNormEpsilon) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto zero = make_word("at", 0.0);
  EXPECT_EQ(zero.compute(inputs_for(*model, in, kLabels, *c)).item<double>(), c->loss.item<double>());
  auto rp = make_word("rp", 0.6);
  rp.compute(inputs_for(*model, in, kLabels, *c));
  const auto r = rp.last_perturbation()[0].second;
  EXPECT_LT(max_abs_diff(r.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.6, torch::kDouble)), 1e-9);
  EXPECT_EQ(r[0].narrow(0, 7, 2).abs().max().item<double>(), 0.0);
}

TEST(WordAt, UnknownEmbeddingSiteNamesTheOnesTheModelHas) {
  auto model = tiny_model("bilstm");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  AdversarialAttentionOptions o;
  o.target = "embeddings";
  o.sites = {"pool"};
  AdversarialAttention at(o);
  try {
    at.compute(inputs_for(*model, in, kLabels, *c));
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no embedding site 'pool'; it has: embed"), std::string::npos) << e.what();
  }
  o.method = "iat";
  o.sites = {};
  EXPECT_THROW(AdversarialAttention{o}, std::invalid_argument);  // iAT is defined on scores only
}

TEST(WordVat, NeverReadsLabelsIsNonNegativeAndZeroAtEpsilonZero) {
  auto model = tiny_model("bilstm");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto vat = make_vat(0.5, "embeddings");
  EXPECT_FALSE(vat.reads_labels());
  EXPECT_TRUE(vat.needs_embeddings());
  EXPECT_FALSE(vat.needs_scores());
  torch::manual_seed(4);
  const double with_labels = vat.compute(inputs_for(*model, in, kLabels, *c)).item<double>();
  const auto r = vat.last_perturbation()[0].second;
  EXPECT_EQ(r.dim(), 3);
  EXPECT_LT(max_abs_diff(r.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.5, torch::kDouble)), 1e-9);
  EXPECT_EQ(r[1].narrow(0, 5, 4).abs().max().item<double>(), 0.0);
  torch::manual_seed(4);
  const auto garbage = torch::tensor(std::vector<int64_t>{-1, 77, 5});
  EXPECT_EQ(vat.compute(inputs_for(*model, in, garbage, *c)).item<double>(), with_labels);
  EXPECT_GT(with_labels, 0.0);
  auto none = make_vat(0.0, "embeddings");
  EXPECT_NEAR(none.compute(inputs_for(*model, in, kLabels, *c)).item<double>(), 0.0, 1e-15);
}

TEST(AttentionIvat, EachReadingRelatesToVatsDirection) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  const auto perturbation = [&](bool interpretable, const std::string& mode) {
    auto v = make_vat(0.8, "scores", interpretable, mode);
    torch::manual_seed(11);  // the same starting noise
    v.compute(inputs_for(*model, in, kLabels, *c));
    return v.last_perturbation();
  };
  const auto vat = perturbation(false, "");
  const auto negated = perturbation(true, "code_negated_grad");
  const auto norm_j = perturbation(true, "iadvt_batch_dirs_norm_j");
  const auto norm_t = perturbation(true, "iadvt_batch_dirs_norm_T");
  for (size_t s = 0; s < vat.size(); ++s) {
    EXPECT_LT(max_abs_diff(negated[s].second, -vat[s].second), 1e-12);  // the released code's sign flip
    EXPECT_LT(max_abs_diff(norm_j[s].second, vat[s].second), 1e-9);     // the identity of notes §1.3
    const auto& r = norm_t[s].second;
    EXPECT_LT(max_abs_diff(r.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.8, torch::kDouble)), 1e-9);
    EXPECT_EQ(r[1].narrow(-1, 5, 4).abs().max().item<double>(), 0.0);
    EXPECT_LT(cosine(r, vat[s].second), 1.0 - 1e-6);  // reweighted, so not VAT's direction
  }
}

}  // namespace
}  // namespace attnlab::objective
