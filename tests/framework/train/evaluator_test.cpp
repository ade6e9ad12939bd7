// Whole-split evaluation of a language model: the loss is the mean over every target of the split
// (batches of different sizes and padded targets weigh what their tokens weigh), metrics read the
// token totals, and attention statistics are averaged over batches.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/registry/components.h"
#include "framework/train/evaluator.h"

namespace attnlab::train {
namespace {

constexpr int64_t kT = 4, kV = 5;
constexpr int64_t kIgnore = datasets::kIgnoreTarget;

// Three windows; the last one is short (padded targets), as a text corpus's final window is.
const int64_t kTargets[3][kT] = {{1, 2, 3, 4}, {0, 0, 1, 2}, {3, 1, kIgnore, kIgnore}};
const int64_t kBytes[3][kT] = {{1, 1, 2, 1}, {3, 1, 1, 1}, {2, 2, 0, 0}};

class FakeLmSplit : public datasets::Split {
 public:
  int64_t size() const override { return 3; }
  datasets::Batch batch(const std::vector<int64_t>& indices) const override {
    datasets::Batch b;
    const auto n = static_cast<int64_t>(indices.size());
    b.inputs = torch::zeros({n, kT}, torch::kLong);
    b.labels = torch::empty({n, kT}, torch::kLong);
    b.target_bytes = torch::empty({n, kT}, torch::kLong);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t t = 0; t < kT; ++t) {
        b.labels[i][t] = kTargets[indices[i]][t];
        b.target_bytes[i][t] = kBytes[indices[i]][t];
      }
    }
    return b;
  }
};

// The same next-token distribution at every window: a fixed (T, V) table of logits.
class FixedLm : public models::Model {
 public:
  explicit FixedLm(torch::Tensor table) : table_(std::move(table)) {}
  models::ModelOutput forward(const models::ModelInput& input, attention::ForwardContext& ctx) override {
    ctx.report("layer0", "active", torch::tensor(static_cast<double>(input.inputs.size(0))));
    return {table_.unsqueeze(0).expand({input.inputs.size(0), kT, kV}), {}};
  }
  torch::Tensor table_;
};

TEST(Evaluate, LanguageModelLossIsAMeanOverTargets) {
  registry::register_framework_components();
  torch::manual_seed(5);
  FixedLm model(torch::randn({kT, kV}));
  FakeLmSplit split;
  run::NamedMetrics metrics;
  config::Value empty = config::Value::map();
  for (const std::string name : {"perplexity", "bits_per_byte", "token_accuracy"})
    metrics.emplace_back(name, registry::metrics().get(name)(config::Section(&empty, "eval.metrics")));
  const objective::Objective objective(0.0, {});

  const EvalResult r = evaluate(model, split, "val", /*batch_size=*/2, objective, metrics, torch::kCPU);

  double nll = 0.0;
  int64_t tokens = 0, bytes = 0, correct = 0;
  const auto logp = torch::log_softmax(model.table_.to(torch::kDouble), -1);
  for (int w = 0; w < 3; ++w) {
    for (int t = 0; t < kT; ++t) {
      if (kTargets[w][t] == kIgnore) continue;
      nll -= logp[t][kTargets[w][t]].item<double>();
      ++tokens;
      bytes += kBytes[w][t];
      if (logp[t].argmax().item<int64_t>() == kTargets[w][t]) ++correct;
    }
  }
  EXPECT_EQ(r.examples, 3);
  EXPECT_EQ(r.tokens, 10);
  EXPECT_EQ(tokens, 10);
  EXPECT_NEAR(r.loss, nll / tokens, 1e-6);
  EXPECT_NEAR(r.get("perplexity"), std::exp(nll / tokens), 1e-5);
  EXPECT_NEAR(r.get("bits_per_byte"), nll / (bytes * std::log(2.0)), 1e-6);
  EXPECT_NEAR(r.get("token_accuracy"), static_cast<double>(correct) / tokens, 1e-12);
  // Batches of 2 and 1 windows: the statistic is averaged over the two forwards.
  EXPECT_NEAR(r.statistics.at("active"), 1.5, 1e-12);
  EXPECT_EQ(r.to_json().at("tokens").get<int64_t>(), 10);
  EXPECT_NE(r.to_line().find("10 tokens"), std::string::npos);
}

}  // namespace
}  // namespace attnlab::train
