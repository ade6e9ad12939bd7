// Attention VAT (notes §6, properties 14-19), AEM (20-25), and every regularizer on mha, moh and
// mega unchanged.
#include <gtest/gtest.h>

#include <cmath>

#include "attention/regularizers/perturbation.h"
#include "framework/objective/attention_adversarial.h"
#include "framework/objective/attention_entropy.h"
#include "framework/objective/attention_vat.h"
#include "regularizer_test_util.h"

namespace attnlab::objective {
namespace {

using namespace testing;

const auto kLabels = torch::tensor(std::vector<int64_t>{0, 2, 1});

VirtualAdversarialAttention make_vat(double eps, int64_t k = 1, double xi = 0.1) {
  VirtualAdversarialAttentionOptions o;
  o.epsilon = eps;
  o.power_iterations = k;
  o.xi = xi;
  return VirtualAdversarialAttention(o);
}

TEST(AttentionVat, EpsilonZeroGivesZeroAndNoGradient) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto vat = make_vat(0.0);
  const auto term = vat.compute(inputs_for(*model, in, kLabels, *c));
  EXPECT_NEAR(term.item<double>(), 0.0, 1e-15);
  term.backward();
  for (const auto& p : model->parameters())
    if (p.grad().defined()) EXPECT_LT(p.grad().abs().max().item<double>(), 1e-12);
}

TEST(AttentionVat, NeverReadsLabelsAndIsNonNegative) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto vat = make_vat(2.0);
  torch::manual_seed(3);
  const double with_labels = vat.compute(inputs_for(*model, in, kLabels, *c)).item<double>();
  const auto garbage = torch::tensor(std::vector<int64_t>{-7, 99, 12345});
  torch::manual_seed(3);
  const double with_garbage = vat.compute(inputs_for(*model, in, garbage, *c)).item<double>();
  EXPECT_EQ(with_labels, with_garbage);
  EXPECT_GT(with_labels, 0.0);
}

TEST(AttentionVat, CleanPredictionIsAFixedTarget) {
  // The gradient of the term equals that of KL(stop_gradient(p) || p(s + r)) with r frozen.
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto vat = make_vat(1.0);
  vat.compute(inputs_for(*model, in, kLabels, *c)).backward();
  const auto got = parameter_grads(*model);
  drop_grads(*model);
  attention::ForwardContext plain, adv;
  const auto target = model->forward(in, plain).logits.detach();
  for (const auto& [site, r] : vat.last_perturbation()) adv.set_perturbation(site, r);
  const auto q = torch::log_softmax(model->forward(in, adv).logits, -1);
  const auto p = torch::softmax(target, -1);
  ((p * (p.log() - q)).sum(-1).mean()).backward();
  const auto want = parameter_grads(*model);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_LT(max_abs_diff(got[i], want[i]), 1e-12) << i;
}

TEST(AttentionVat, PerturbationNormMaskAndRowSums) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  auto vat = make_vat(0.9, 2);
  vat.compute(inputs_for(*model, in, kLabels, *c));
  for (const auto& [site, r] : vat.last_perturbation()) {
    EXPECT_FALSE(r.requires_grad());
    EXPECT_LT(max_abs_diff(r.reshape({3, -1}).norm(2, 1), torch::full({3}, 0.9, torch::kDouble)), 1e-9);
    EXPECT_EQ(r[1].narrow(-1, 5, 4).abs().max().item<double>(), 0.0);
    EXPECT_LT(r.sum(-1).abs().max().item<double>(), 1e-10) << site;  // after K >= 1 iterations
  }
}

TEST(AttentionVat, InsensitiveToTheFiniteDifferenceStep) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  std::vector<torch::Tensor> dirs;
  for (double xi : {1e-8, 1e-6, 1e-4, 1e-2, 1e-1}) {
    auto vat = make_vat(1.0, 1, xi);
    torch::manual_seed(8);
    const double v = vat.compute(inputs_for(*model, in, kLabels, *c)).item<double>();
    EXPECT_TRUE(std::isfinite(v));
    dirs.push_back(vat.last_perturbation()[0].second);
    // A tiny xi gives a tiny gradient; it must still be scaled to norm eps.
    EXPECT_LT(max_abs_diff(dirs.back().reshape({3, -1}).norm(2, 1), torch::ones({3}, torch::kDouble)), 1e-9) << xi;
  }
  for (size_t i = 1; i < dirs.size(); ++i) {
    const double cos = (dirs[0] * dirs[i]).sum().item<double>() / (dirs[0].norm() * dirs[i].norm()).item<double>();
    EXPECT_GT(cos, 0.99) << i;
  }
}

TEST(AttentionVat, PowerIterationFindsTheTopEigenvectorOfALinearSoftmaxToy) {
  // One "site": logits = W softmax-free scores s (C x N), so the KL's Hessian in s is
  // J^T (diag(p) - p p^T) J with J = W. Many iterations must align d with its top eigenvector.
  struct LinearScores : models::Model {
    torch::Tensor w, s0;
    models::ModelOutput forward(const models::ModelInput&, attention::ForwardContext& ctx) override {
      const auto s = ctx.on_scores("site", s0, torch::Tensor());
      return {torch::matmul(s.reshape({1, -1}), w.t()), {}};
    }
  } toy;
  torch::manual_seed(2);
  toy.w = torch::randn({4, 6}, torch::kDouble);
  toy.s0 = torch::randn({1, 1, 2, 3}, torch::kDouble);
  const models::ModelInput in{torch::zeros({1, 1}), torch::Tensor()};
  attention::ForwardContext ctx;
  ctx.set_record_scores(true);
  const auto out = toy.forward(in, ctx);
  const torch::Tensor loss = out.logits.sum();
  const torch::Tensor none;
  const RegularizerInputs inputs{toy, in, none, out, ctx, loss, 0, [](const torch::Tensor& l) { return l.sum(); }, 1.0};
  auto vat = make_vat(1.0, 50, 1e-4);
  vat.compute(inputs);
  const auto d = vat.last_perturbation()[0].second.reshape({-1});

  const auto p = torch::softmax(out.logits.detach().reshape({-1}), 0);
  const auto h = torch::matmul(toy.w.t(), torch::matmul(torch::diag(p) - torch::outer(p, p), toy.w));
  const auto eig = torch::linalg::eigh(h, "L");
  const auto top = std::get<1>(eig).select(1, 5);  // eigenvalues ascending
  EXPECT_NEAR(std::abs((d * top).sum().item<double>()), 1.0, 1e-6);
}

TEST(AttentionEntropy, UniformIsLogNAndOneHotIsZeroWithoutNaN) {
  const auto mask = torch::arange(5).ge(4).view({1, 5});  // the last key is padding
  auto uniform = torch::full({1, 1, 1, 5}, 0.25, torch::kDouble);
  uniform[0][0][0][4] = 0.0;
  const auto [h, valid] = attention::attention_row_entropy(uniform, mask, false);
  EXPECT_NEAR(h.item<double>(), std::log(4.0), 1e-12);
  EXPECT_TRUE(valid.item<bool>());
  const auto [hn, v2] = attention::attention_row_entropy(uniform, mask, true);
  EXPECT_NEAR(hn.item<double>(), 1.0, 1e-12);  // normalised by log 4

  const auto logits = torch::tensor(std::vector<double>{1000.0, 0.0, 0.0}, torch::requires_grad());
  const auto [h1, v1] =
      attention::attention_row_entropy(torch::softmax(logits.view({1, 1, 1, 3}), -1), torch::Tensor(), false);
  EXPECT_NEAR(h1.item<double>(), 0.0, 1e-12);
  h1.sum().backward();
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(AttentionEntropy, GradientIsAlogAplusH) {
  torch::manual_seed(6);
  const auto z = torch::randn({1, 1, 1, 6}, torch::dtype(torch::kDouble).requires_grad(true));
  const auto a = torch::softmax(z, -1);
  const auto [h, valid] = attention::attention_row_entropy(a, torch::Tensor(), false);
  (-h.sum()).backward();
  const auto ad = a.detach();
  const auto want = ad * (ad.log() + h.detach().item<double>());
  EXPECT_LT(max_abs_diff(z.grad(), want), 1e-12);
  EXPECT_NEAR(z.grad().sum().item<double>(), 0.0, 1e-12);
}

TEST(AttentionEntropy, PaddingExcludedPermutationInvariantAndMeanOverHeads) {
  torch::manual_seed(7);
  const auto w = torch::softmax(torch::randn({1, 2, 1, 4}, torch::kDouble), -1);
  const auto [h, valid] = attention::attention_row_entropy(w, torch::Tensor(), false);
  // Padding the bag with masked instances changes nothing.
  const auto padded = torch::cat({w, torch::zeros({1, 2, 1, 3}, torch::kDouble)}, -1);
  const auto mask = torch::arange(7).ge(4).view({1, 7});  // three padded instances
  const auto [hp, vp] = attention::attention_row_entropy(padded, mask, false);
  EXPECT_LT(max_abs_diff(h, hp), 1e-12);
  // Permuting the instances changes nothing.
  const auto perm = torch::tensor(std::vector<int64_t>{2, 0, 3, 1});
  const auto [hq, vq] = attention::attention_row_entropy(w.index_select(-1, perm), torch::Tensor(), false);
  EXPECT_LT(max_abs_diff(h, hq), 1e-12);

  // The regularizer's term is minus the mean over heads (the reference divides the sum by heads).
  struct TwoHeads : models::Model {
    torch::Tensor w;
    models::ModelOutput forward(const models::ModelInput&, attention::ForwardContext& ctx) override {
      ctx.on_scores("mil", w, torch::Tensor());
      ctx.on_weights("mil", w);
      return {torch::zeros({1, 2}), {}};
    }
  } model;
  model.w = w;
  attention::ForwardContext ctx;
  ctx.set_record_weights(true);
  const models::ModelInput in{torch::zeros({1, 4}), torch::Tensor()};
  const auto out = model.forward(in, ctx);
  const torch::Tensor none, loss = torch::zeros({});
  AttentionEntropy aem({});
  const auto term = aem.compute({model, in, none, out, ctx, loss, 0, nullptr, 1.0});
  EXPECT_NEAR(term.item<double>(), -(h[0][0][0] + h[0][1][0]).item<double>() / 2.0, 1e-12);
}

TEST(AttentionEntropy, AStepOnTheTermRaisesTheEntropyAndWeightZeroChangesNothing) {
  auto model = tiny_model("mha");
  const auto in = padded_batch({7, 5, 9}, 9);
  auto c = clean_forward(*model, in, kLabels);
  AttentionEntropy aem({});
  const auto term = aem.compute(inputs_for(*model, in, kLabels, *c));
  term.backward();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters())
      if (p.grad().defined()) p.sub_(1e-2 * p.grad());
  }
  auto after = clean_forward(*model, in, kLabels);
  EXPECT_LT(aem.compute(inputs_for(*model, in, kLabels, *after)).item<double>(), term.item<double>());

  // Weight 0: gradients bit-identical to training without the term.
  auto fresh = tiny_model("mha");
  Objective with(0.0, {{"attention_entropy", std::make_shared<AttentionEntropy>(AttentionEntropyOptions{}),
                        WeightSchedule{0.0, 0.0, "constant"}}});
  auto c1 = clean_forward(*fresh, in, kLabels);
  with.compute(*fresh, in, kLabels, c1->out, c1->ctx, 0, 10).total.backward();
  const auto got = parameter_grads(*fresh);
  drop_grads(*fresh);
  clean_forward(*fresh, in, kLabels)->loss.backward();
  const auto want = parameter_grads(*fresh);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i], want[i])) << i;
}

// Every regularizer runs unchanged on each attention module: finite terms, a perturbation of
// norm eps at every site, gradients for the parameters.
class OnEveryModule : public ::testing::TestWithParam<std::string> {};

TEST_P(OnEveryModule, AllRegularizersRun) {
  auto model = tiny_model(GetParam());
  const auto in = padded_batch({7, 5, 9}, 9);
  AdversarialAttentionOptions at_options;
  at_options.epsilon = 0.5;
  std::vector<std::pair<std::string, RegularizerPtr>> regs = {
      {"at", std::make_shared<AdversarialAttention>(at_options)},
      {"vat", std::make_shared<VirtualAdversarialAttention>(
                  VirtualAdversarialAttentionOptions{0.5, 0.1, 1, false, "code_negated_grad", "scores", {}})},
      {"aem", std::make_shared<AttentionEntropy>(AttentionEntropyOptions{})},
      {"ivat", std::make_shared<VirtualAdversarialAttention>(
                   VirtualAdversarialAttentionOptions{0.5, 0.1, 1, true, "iadvt_batch_dirs_norm_T", "scores", {}})},
      {"word_vat", std::make_shared<VirtualAdversarialAttention>(
                       VirtualAdversarialAttentionOptions{0.5, 0.1, 1, false, "code_negated_grad", "embeddings", {}})}};
  for (const auto& [name, reg] : regs) {
    drop_grads(*model);
    auto c = clean_forward(*model, in, kLabels);
    EXPECT_EQ(c->ctx.scores().size(), GetParam() == "bilstm" ? 1u : 2u) << name;
    const auto term = reg->compute(inputs_for(*model, in, kLabels, *c));
    EXPECT_TRUE(std::isfinite(term.item<double>())) << name;
    (c->loss + term).backward();
    double grad_sum = 0.0;
    for (const auto& p : model->parameters())
      if (p.grad().defined()) grad_sum += p.grad().abs().sum().item<double>();
    EXPECT_GT(grad_sum, 0.0) << name;
  }
  auto c = clean_forward(*model, in, kLabels);
  auto at = std::dynamic_pointer_cast<AdversarialAttention>(regs[0].second);
  at->compute(inputs_for(*model, in, kLabels, *c));
  for (const auto& [site, r] : at->last_perturbation()) {
    EXPECT_LT(max_abs_diff(r.reshape({r.size(0), -1}).norm(2, 1), torch::full({r.size(0)}, 0.5, torch::kDouble)), 1e-9)
        << site;
  }
}

INSTANTIATE_TEST_SUITE_P(Modules, OnEveryModule, ::testing::Values("mha", "moh", "mega", "bilstm"));

}  // namespace
}  // namespace attnlab::objective
