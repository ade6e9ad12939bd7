// The registries of each component kind, and the framework's own generic components.
#include "framework/registry/components.h"

#include <mutex>

#include "framework/metrics/classification_metrics.h"
#include "framework/metrics/language_model_metrics.h"

namespace attnlab::registry {

Registry<DatasetFactory>& datasets() {
  static Registry<DatasetFactory> r("dataset");
  return r;
}
Registry<AttentionFactory>& attention_modules() {
  static Registry<AttentionFactory> r("attention");
  return r;
}
Registry<ModelFactory>& models() {
  static Registry<ModelFactory> r("model");
  return r;
}
Registry<OptimizerFactory>& optimizers() {
  static Registry<OptimizerFactory> r("optimizer");
  return r;
}
Registry<ScheduleFactory>& schedules() {
  static Registry<ScheduleFactory> r("schedule");
  return r;
}
Registry<RegularizerFactory>& regularizers() {
  static Registry<RegularizerFactory> r("regularizer");
  return r;
}
Registry<MetricFactory>& metrics() {
  static Registry<MetricFactory> r("metric");
  return r;
}

namespace {

void register_optimizer(const std::string& name, const std::string& doc) {
  config::Schema s(doc);
  s.add_float("lr", 1e-3, "peak learning rate (the schedule scales it)").greater_than(0);
  s.add_float("weight_decay", name == "adamw" ? 0.01 : 0.0,
              name == "adam" ? "L2 penalty added to the gradient (coupled; use adamw for decoupled)"
                             : "weight decay")
      .at_least(0);
  s.add_bool("decay_biases_and_norms", false,
             "apply weight decay to biases and normalisation weights too (default: not)");
  if (name == "sgd") {
    s.add_float("momentum", 0.0, "momentum factor").at_least(0).less_than(1);
    s.add_bool("nesterov", false, "Nesterov momentum (needs momentum > 0)");
  } else {
    s.add_float("beta1", 0.9, "first-moment decay").at_least(0).less_than(1);
    s.add_float("beta2", 0.999, "second-moment decay").at_least(0).less_than(1);
    s.add_float("eps", 1e-8, "denominator epsilon").greater_than(0);
  }
  optimizers().add(name, doc, std::move(s),
                   [name](const config::Section& c,
                          const std::vector<std::pair<std::string, torch::Tensor>>& params) {
                     optim::OptimizerOptions o;
                     o.name = name;
                     o.lr = c.get_float("lr");
                     o.weight_decay = c.get_float("weight_decay");
                     o.decay_biases_and_norms = c.get_bool("decay_biases_and_norms");
                     if (name == "sgd") {
                       o.momentum = c.get_float("momentum");
                       o.nesterov = c.get_bool("nesterov");
                     } else {
                       o.beta1 = c.get_float("beta1");
                       o.beta2 = c.get_float("beta2");
                       o.eps = c.get_float("eps");
                     }
                     return optim::make_optimizer(params, o);
                   });
}

void register_schedule(const std::string& name, const std::string& doc) {
  config::Schema s(doc);
  s.add_int("warmup_steps", 0, "linear warmup over this many optimizer steps").at_least(0);
  s.add_float("min_lr_ratio", 0.0, "floor of the decay, as a fraction of the peak lr")
      .at_least(0)
      .at_most(1);
  schedules().add(name, doc, std::move(s), [name](const config::Section& c, int64_t total) {
    optim::ScheduleOptions o;
    o.name = name;
    o.warmup_steps = c.get_int("warmup_steps");
    o.min_lr_ratio = c.get_float("min_lr_ratio");
    o.total_steps = total;
    return optim::make_schedule(o);
  });
}

// Adapts a plain function of (logits, labels) to the Metric interface.
class FunctionMetric : public metrics::Metric {
 public:
  using Fn = std::function<std::optional<double>(const torch::Tensor&, const torch::Tensor&)>;
  explicit FunctionMetric(Fn fn) : fn_(std::move(fn)) {}
  std::optional<double> compute(const torch::Tensor& logits,
                                const torch::Tensor& labels) const override {
    return fn_(logits, labels);
  }

 private:
  Fn fn_;
};

void register_metric(const std::string& name, const std::string& doc, FunctionMetric::Fn fn) {
  metrics().add(name, doc, config::Schema(doc), [fn](const config::Section&) {
    return std::make_shared<FunctionMetric>(fn);
  });
}

// Adapts a function of a language model's token totals to the Metric interface.
class TokenMetric : public metrics::Metric {
 public:
  using Fn = std::optional<double> (*)(const metrics::TokenTotals&);
  TokenMetric(Fn fn, bool higher_is_better) : fn_(fn), higher_is_better_(higher_is_better) {}
  datasets::Task task() const override { return datasets::Task::kLanguageModel; }
  std::optional<double> compute_tokens(const metrics::TokenTotals& totals) const override { return fn_(totals); }
  bool higher_is_better() const override { return higher_is_better_; }

 private:
  Fn fn_;
  bool higher_is_better_;
};

void register_token_metric(const std::string& name, const std::string& doc, TokenMetric::Fn fn,
                           bool higher_is_better) {
  metrics().add(name, doc, config::Schema(doc), [fn, higher_is_better](const config::Section&) {
    return std::make_shared<TokenMetric>(fn, higher_is_better);
  });
}

}  // namespace

void register_framework_components() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_optimizer("adamw", "AdamW (decoupled weight decay, Loshchilov & Hutter)");
    register_optimizer("adam", "Adam (Kingma & Ba)");
    register_optimizer("sgd", "SGD with optional (Nesterov) momentum");

    register_schedule("constant", "constant lr after an optional linear warmup");
    register_schedule("warmup_cosine", "linear warmup, then cosine decay to the floor");
    register_schedule("warmup_linear", "linear warmup, then linear decay to the floor");
    register_schedule("warmup_inverse_sqrt",
                      "linear warmup, then lr * sqrt(warmup) / sqrt(step) (fairseq's inverse_sqrt)");

    register_metric("accuracy", "fraction of examples whose argmax equals the label",
                    [](const torch::Tensor& l, const torch::Tensor& y) -> std::optional<double> {
                      return metrics::accuracy(l, y);
                    });
    register_metric("macro_f1", "unweighted mean of per-class F1",
                    [](const torch::Tensor& l, const torch::Tensor& y) -> std::optional<double> {
                      return metrics::macro_f1(l, y);
                    });
    register_metric("auroc", "binary AUROC of the class-1 probability (two classes only)",
                    [](const torch::Tensor& l, const torch::Tensor& y) -> std::optional<double> {
                      if (l.size(1) != 2) return std::nullopt;
                      return metrics::binary_auroc(l, y);
                    });
    register_token_metric("perplexity", "language model: exp(mean next-token NLL), lower is better",
                          metrics::perplexity, false);
    register_token_metric("bits_per_token", "language model: mean next-token NLL in bits, lower is better",
                          metrics::bits_per_token, false);
    register_token_metric("bits_per_byte",
                          "language model: the split's NLL in bits over its text's bytes, lower is better",
                          metrics::bits_per_byte, false);
    register_token_metric("token_accuracy", "language model: fraction of next tokens that are the argmax",
                          metrics::token_accuracy, true);
  });
}

}  // namespace attnlab::registry
