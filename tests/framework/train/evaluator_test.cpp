// Whole-split evaluation of a language model: the loss is the mean over every target of the split
// (batches of different sizes and padded targets weigh what their tokens weigh), metrics read the
// token totals, and attention statistics are averaged over batches.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

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

// Data-parallel evaluation (EvalSharding): two ranks in two threads, each evaluating its share of
// a classification split whose size the ranks do not divide, with an in-memory sum in place of the
// process group. Both must get exactly what one process gets on the whole split.
namespace sharded {

constexpr int64_t kN = 7, kF = 3, kC = 4;

class FeatureSplit : public datasets::Split {
 public:
  FeatureSplit() {
    torch::manual_seed(11);
    x_ = torch::randn({kN, 1, kF});
    y_ = torch::randint(0, kC, {kN}, torch::kLong);
  }
  int64_t size() const override { return kN; }
  datasets::Batch batch(const std::vector<int64_t>& indices) const override {
    const auto idx = torch::tensor(indices, torch::kLong);
    return {x_.index_select(0, idx), {}, y_.index_select(0, idx), {}, {}};
  }
  torch::Tensor x_, y_;
};

class Linear : public models::Model {
 public:
  explicit Linear(torch::Tensor w) : w_(std::move(w)) {}
  models::ModelOutput forward(const models::ModelInput& input, attention::ForwardContext& ctx) override {
    ctx.report("layer0", "active", torch::tensor(0.5, torch::kDouble));
    return {torch::matmul(input.inputs.squeeze(1), w_), {}};
  }
  torch::Tensor w_;
};

// A sum over two threads: each call waits for the other thread's matching call.
class TwoThreadSum {
 public:
  void sum(torch::Tensor& t) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    if (!pending_.defined()) {
      pending_ = t.clone();
      cv_.wait(lock, [&] { return generation_ != generation; });
      t.copy_(result_);
    } else {
      result_ = pending_ + t;
      pending_ = torch::Tensor();
      t.copy_(result_);
      ++generation_;
      cv_.notify_all();
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  torch::Tensor pending_, result_;
  int64_t generation_ = 0;
};

TEST(Evaluate, ShardedOverRanksEqualsOneProcess) {
  registry::register_framework_components();
  FeatureSplit split;
  torch::manual_seed(3);
  Linear model(torch::randn({kF, kC}));
  run::NamedMetrics metrics;
  config::Value empty = config::Value::map();
  for (const std::string name : {"accuracy", "macro_f1"})
    metrics.emplace_back(name, registry::metrics().get(name)(config::Section(&empty, "eval.metrics")));
  const objective::Objective objective(0.0, {});
  const EvalResult whole = evaluate(model, split, "val", 2, objective, metrics, torch::kCPU);

  TwoThreadSum reducer;
  EvalResult parts[2];
  auto rank = [&](int64_t r) {
    Linear copy(model.w_.clone());  // each rank its own model, as in separate processes
    const EvalSharding sharding{r, 2, [&](torch::Tensor& t) { reducer.sum(t); }};
    parts[r] = evaluate(copy, split, "val", 2, objective, metrics, torch::kCPU, &sharding);
  };
  std::thread t0(rank, 0), t1(rank, 1);
  t0.join();
  t1.join();
  for (const auto& p : parts) {
    EXPECT_EQ(p.examples, kN);
    EXPECT_NEAR(p.loss, whole.loss, 1e-6);  // float32 batch losses over other batch boundaries
    EXPECT_EQ(p.metrics, whole.metrics);
    EXPECT_NEAR(p.statistics.at("active"), 0.5, 1e-12);
  }
}

}  // namespace sharded

}  // namespace
}  // namespace attnlab::train
