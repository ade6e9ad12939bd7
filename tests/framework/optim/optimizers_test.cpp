// Optimizers with parameter groups: which parameters are decayed, what each optimizer's weight
// decay does (decoupled for AdamW, L2 for Adam), an SGD step checked by hand, lr scaling per
// group, and that saving and loading the optimizer state continues the run bit for bit.
#include "framework/optim/optimizers.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

namespace attnlab::optim {
namespace {

using Names = std::vector<std::string>;
using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;

struct NetImpl : torch::nn::Module {
  NetImpl()
      : embed(register_module("embed", torch::nn::Embedding(10, 4))),
        linear(register_module("linear", torch::nn::Linear(4, 3))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})))) {}
  torch::Tensor forward(const torch::Tensor& tokens) { return norm(linear(embed(tokens))); }
  torch::nn::Embedding embed;
  torch::nn::Linear linear;
  torch::nn::LayerNorm norm;
};
TORCH_MODULE(Net);

NamedParams named(const torch::nn::Module& module) {
  NamedParams out;
  for (const auto& item : module.named_parameters()) out.emplace_back(item.key(), item.value());
  return out;
}

double group_weight_decay(const torch::optim::Optimizer& opt, size_t group) {
  const auto& options = opt.param_groups().at(group).options();
  if (auto* a = dynamic_cast<const torch::optim::AdamWOptions*>(&options)) return a->weight_decay();
  if (auto* a = dynamic_cast<const torch::optim::AdamOptions*>(&options)) return a->weight_decay();
  return dynamic_cast<const torch::optim::SGDOptions&>(options).weight_decay();
}

OptimizerOptions options(const std::string& name, double lr, double weight_decay) {
  OptimizerOptions o;
  o.name = name;
  o.lr = lr;
  o.weight_decay = weight_decay;
  return o;
}

TEST(Optimizers, MatricesAndEmbeddingsDecayBiasesAndNormsDoNot) {
  Net net;
  for (const char* name : {"adamw", "adam", "sgd"}) {
    const auto built = make_optimizer(named(*net), options(name, 1e-3, 0.1));
    ASSERT_EQ(built.optimizer->param_groups().size(), 2u) << name;
    EXPECT_EQ(built.group_names[0], (Names{"embed.weight", "linear.weight"})) << name;
    EXPECT_EQ(built.group_names[1], (Names{"linear.bias", "norm.weight", "norm.bias"})) << name;
    EXPECT_DOUBLE_EQ(group_weight_decay(*built.optimizer, 0), 0.1) << name;
    EXPECT_DOUBLE_EQ(group_weight_decay(*built.optimizer, 1), 0.0) << name;
    EXPECT_EQ(built.base_lrs, (std::vector<double>{1e-3, 1e-3})) << name;
    // The groups hold the module's own tensors, not copies.
    const auto& decayed = built.optimizer->param_groups()[0].params();
    ASSERT_EQ(decayed.size(), 2u);
    EXPECT_TRUE(decayed[0].is_same(net->embed->weight));
    EXPECT_TRUE(decayed[1].is_same(net->linear->weight));
    EXPECT_TRUE(built.optimizer->param_groups()[1].params()[1].is_same(net->norm->weight));
  }
}

TEST(Optimizers, DecayBiasesAndNormsPutsEverythingInOneGroup) {
  Net net;
  auto o = options("adamw", 1e-3, 0.1);
  o.decay_biases_and_norms = true;
  const auto built = make_optimizer(named(*net), o);
  ASSERT_EQ(built.optimizer->param_groups().size(), 1u);
  EXPECT_EQ(built.group_names.size(), 1u);
  EXPECT_EQ(built.group_names[0].size(), 5u);
  EXPECT_EQ(built.base_lrs.size(), 1u);
  EXPECT_DOUBLE_EQ(group_weight_decay(*built.optimizer, 0), 0.1);
}

TEST(Optimizers, TiedAndFrozenParameters) {
  const auto shared = torch::ones({3, 3}).requires_grad_();
  const auto frozen = torch::ones({3, 3});
  const auto bias = torch::zeros({3}).requires_grad_();
  const auto built = make_optimizer(
      {{"embed.weight", shared}, {"head.weight", shared}, {"frozen", frozen}, {"bias", bias}},
      options("adamw", 1e-3, 0.1));
  EXPECT_EQ(built.group_names[0], Names{"embed.weight"});  // a tied weight is updated once
  EXPECT_EQ(built.group_names[1], Names{"bias"});
  EXPECT_THROW(make_optimizer({{"frozen", frozen}}, options("adamw", 1e-3, 0.1)),
               std::invalid_argument);
}

// With no matrices, group [0] stays (empty) so that index 0 still means "decayed".
TEST(Optimizers, OnlyVectorsLeavesAnEmptyDecayGroup) {
  auto bias = torch::ones({2}).requires_grad_();
  auto built = make_optimizer({{"bias", bias}}, options("adamw", 0.1, 0.5));
  ASSERT_EQ(built.optimizer->param_groups().size(), 2u);
  EXPECT_TRUE(built.group_names[0].empty());
  bias.mutable_grad() = torch::zeros({2});
  built.optimizer->step();
  EXPECT_TRUE(torch::equal(bias, torch::ones({2})));
}

// AdamW's decay is decoupled: with a zero gradient the Adam update is exactly 0 and the decayed
// parameter is multiplied by (1 - lr * wd) = 1 - 0.1 * 0.5; the no-decay one does not move.
TEST(Optimizers, AdamWDecaysOnlyTheDecayGroup) {
  auto matrix = torch::ones({2, 2}).requires_grad_();
  auto vector = torch::ones({2}).requires_grad_();
  auto built = make_optimizer({{"w", matrix}, {"b", vector}}, options("adamw", 0.1, 0.5));
  matrix.mutable_grad() = torch::zeros({2, 2});
  vector.mutable_grad() = torch::zeros({2});
  built.optimizer->step();
  EXPECT_TRUE(torch::allclose(matrix, torch::full({2, 2}, 0.95f), 0.0, 1e-7)) << matrix;
  EXPECT_TRUE(torch::equal(vector, torch::ones({2}))) << vector;
}

// Adam's weight_decay is L2: wd * p joins the gradient before Adam normalises it, so the first
// step moves the decayed parameter by about lr (0.1), not by lr * wd * p (0.05) as AdamW would.
TEST(Optimizers, AdamWeightDecayIsCoupledL2) {
  auto matrix = torch::ones({2, 2}).requires_grad_();
  auto vector = torch::ones({2}).requires_grad_();
  auto built = make_optimizer({{"w", matrix}, {"b", vector}}, options("adam", 0.1, 0.5));
  matrix.mutable_grad() = torch::zeros({2, 2});
  vector.mutable_grad() = torch::zeros({2});
  built.optimizer->step();
  EXPECT_TRUE(torch::allclose(matrix, torch::full({2, 2}, 0.9f), 0.0, 1e-6)) << matrix;
  EXPECT_TRUE(torch::equal(vector, torch::ones({2}))) << vector;
}

// SGD with momentum 0.9, lr 0.1, by hand (PyTorch's form: buf = m * buf + g; p -= lr * buf):
//   step 1: buf = g1 = (0.5, 0.25);                 p = (1, -2) - 0.1 buf = (0.95, -2.025)
//   step 2: buf = 0.9 (0.5, 0.25) + (1, 1) = (1.45, 1.225);  p = (0.805, -2.1475)
TEST(Optimizers, SgdMomentumMatchesHandComputation) {
  auto p = torch::tensor({{1.0f, -2.0f}}).requires_grad_();
  auto o = options("sgd", 0.1, 0.0);
  o.momentum = 0.9;
  auto built = make_optimizer({{"p", p}}, o);
  p.mutable_grad() = torch::tensor({{0.5f, 0.25f}});
  built.optimizer->step();
  EXPECT_TRUE(torch::allclose(p, torch::tensor({{0.95f, -2.025f}}), 0.0, 1e-6)) << p;
  p.mutable_grad() = torch::tensor({{1.0f, 1.0f}});
  built.optimizer->step();
  EXPECT_TRUE(torch::allclose(p, torch::tensor({{0.805f, -2.1475f}}), 0.0, 1e-6)) << p;
}

// Nesterov looks ahead: the update is g + m * buf = 1.9 g on the first step;
// with weight decay 0.1 on the matrix the gradient is first g + 0.1 p.
//   g' = (0.5, 0.25) + 0.1 (1, -2) = (0.6, 0.05);  p = (1, -2) - 0.1 * 1.9 g' = (0.886, -2.0095)
TEST(Optimizers, SgdNesterovWithWeightDecayMatchesHandComputation) {
  auto p = torch::tensor({{1.0f, -2.0f}}).requires_grad_();
  auto o = options("sgd", 0.1, 0.1);
  o.momentum = 0.9;
  o.nesterov = true;
  auto built = make_optimizer({{"p", p}}, o);
  p.mutable_grad() = torch::tensor({{0.5f, 0.25f}});
  built.optimizer->step();
  EXPECT_TRUE(torch::allclose(p, torch::tensor({{0.886f, -2.0095f}}), 0.0, 1e-6)) << p;
}

TEST(Optimizers, InvalidOptionsAreRejected) {
  Net net;
  auto o = options("sgd", 0.1, 0.0);
  o.nesterov = true;  // without momentum
  EXPECT_THROW(make_optimizer(named(*net), o), std::invalid_argument);
  EXPECT_THROW(make_optimizer(named(*net), options("lamb", 0.1, 0.0)), std::invalid_argument);
  EXPECT_THROW(make_optimizer(named(*net), options("adamw", -0.1, 0.0)), std::invalid_argument);
  EXPECT_THROW(make_optimizer(named(*net), options("adamw", 0.1, -1.0)), std::invalid_argument);
  o = options("adam", 0.1, 0.0);
  o.beta2 = 1.0;
  EXPECT_THROW(make_optimizer(named(*net), o), std::invalid_argument);
}

TEST(Optimizers, LrFactorScalesEveryGroupFromItsBase) {
  Net net;
  auto built = make_optimizer(named(*net), options("adamw", 0.01, 0.1));
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 0), 0.01);
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 1), 0.01);
  apply_lr_factor(built, 0.5);
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 0), 0.005);
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 1), 0.005);
  apply_lr_factor(built, 0.5);  // from the base, not compounding
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer), 0.005);
  built.base_lrs[1] = 0.1;  // groups may have different bases
  apply_lr_factor(built, 2.0);
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 0), 0.02);
  EXPECT_DOUBLE_EQ(current_lr(*built.optimizer, 1), 0.2);
  EXPECT_THROW(current_lr(*built.optimizer, 2), c10::Error);
}

// A deterministic little training run: fixed data, a loss that keeps the gradients non-trivial.
void train_steps(Net& net, BuiltOptimizer& built, int64_t from, int64_t to) {
  const auto tokens = torch::arange(0, 10).reshape({2, 5});
  const auto target = torch::linspace(-1.0, 1.0, 30).reshape({2, 5, 3});
  for (int64_t step = from; step < to; ++step) {
    apply_lr_factor(built, 1.0 / static_cast<double>(step + 1));  // a schedule that varies
    built.optimizer->zero_grad();
    torch::mse_loss(net->forward(tokens), target).backward();
    built.optimizer->step();
  }
}

std::vector<torch::Tensor> parameter_copies(const Net& net) {
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(Optimizers, AdamWStateRoundTripContinuesBitForBit) {
  torch::manual_seed(7);
  Net reference;
  torch::manual_seed(7);
  Net resumed;  // the same initial weights
  const auto opts = options("adamw", 0.05, 0.1);

  auto uninterrupted = make_optimizer(named(*reference), opts);
  train_steps(reference, uninterrupted, 0, 12);

  // First half, then save the optimizer state as a checkpoint would and drop the optimizer.
  std::stringstream saved;
  {
    auto first = make_optimizer(named(*resumed), opts);
    train_steps(resumed, first, 0, 6);
    torch::serialize::OutputArchive archive;
    first.optimizer->save(archive);
    archive.save_to(saved);
  }
  // A fresh optimizer, as after a restart, loads the state and runs the second half.
  auto second = make_optimizer(named(*resumed), opts);
  torch::serialize::InputArchive archive;
  archive.load_from(saved);
  second.optimizer->load(archive);
  train_steps(resumed, second, 6, 12);

  const auto expected = parameter_copies(reference);
  const auto actual = parameter_copies(resumed);
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(torch::equal(expected[i], actual[i])) << "parameter " << i;

  // Without the saved state the second half diverges, so the comparison above has teeth.
  torch::manual_seed(7);
  Net fresh_start;
  auto lost_state = make_optimizer(named(*fresh_start), opts);
  train_steps(fresh_start, lost_state, 0, 6);
  auto restarted = make_optimizer(named(*fresh_start), opts);
  train_steps(fresh_start, restarted, 6, 12);
  EXPECT_FALSE(torch::equal(parameter_copies(fresh_start)[1], expected[1]));
}

}  // namespace
}  // namespace attnlab::optim
