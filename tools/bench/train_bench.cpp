#include "tools/bench/train_bench.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "framework/checkpoint/weights_file.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/io/json_file.h"
#include "framework/io/npy.h"
#include "framework/run/experiment.h"
#include "framework/run/recipe.h"
#include "framework/runtime/threads.h"
#include "framework/train/batch_input.h"
#include "tools/bench/child_process.h"
#include "tools/bench/encoder_flops.h"
#include "tools/bench/median.h"

namespace attnlab::tools {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kUntimedSteps = 5;  // as train::ThroughputMeter and the Python script

// A recipe scalar as JSON: booleans, integers and numbers typed, the rest strings.
nlohmann::json scalar_json(const config::Value& v) {
  const std::string& t = v.text();
  if (v.quoted()) return t;
  if (t == "true" || t == "false") return t == "true";
  char* end = nullptr;
  const long long i = std::strtoll(t.c_str(), &end, 10);
  if (!t.empty() && *end == '\0') return i;
  const double d = std::strtod(t.c_str(), &end);
  if (!t.empty() && *end == '\0') return d;
  return t;
}

nlohmann::json value_json(const config::Value& v) {
  if (v.is_scalar()) return scalar_json(v);
  if (v.is_list()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : v.items()) out.push_back(value_json(item));
    return out;
  }
  if (v.is_map()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : v.entries()) out[key] = value_json(item);
    return out;
  }
  return nullptr;
}

// The last line of a log that is a JSON object (the Python script prints one).
nlohmann::json last_json_line(const std::string& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line.front() == '{') last = line;
  if (last.empty()) throw UserError("bench train: no result in " + log + ":\n" + log_tail(log));
  return nlohmann::json::parse(last);
}

struct Prepared {
  run::Recipe recipe;
  int64_t parameters = 0;
  double check_loss = 0;
  double flops_per_step = 0;  // mean over the timed steps; 0 when the model's count is not known
};

// Mean FLOPs of a step over the batches the timed steps take (shuffling off: consecutive batches,
// the last incomplete one dropped), each as long as its longest example, as the datasets collate.
double mean_step_flops(const run::Recipe& r, const datasets::Batch& all, int64_t steps) {
  const auto model = r.section("model");
  if (model.get_string("name") != "encoder_classifier") return 0;
  const std::string attention = model.sub("attention").get_string("name");
  if (attention != "mha" && attention != "moh") return 0;
  const int64_t n = all.size(), b = r.train.batch_size, batches = std::max<int64_t>(1, n / b);
  const int64_t d = model.get_int("d_model"), ff = model.get_int("ff_dim") > 0 ? model.get_int("ff_dim") : 4 * d;
  const int64_t features = all.inputs.dim() == 3 ? all.inputs.size(2) : 0;
  const auto lengths = all.padding_mask.defined() ? (~all.padding_mask).sum(1) : torch::full({n}, all.inputs.size(1), torch::kLong);
  const int64_t extra = model.get_string("pooling") == "cls" ? 1 : 0;
  double total = 0;
  for (int64_t s = kUntimedSteps; s < steps; ++s) {
    const int64_t first = (s % batches) * b;
    const int64_t t = lengths.slice(0, first, first + b).max().item<int64_t>() + extra;
    total += encoder_train_flops(b, t, d, ff, model.get_int("layers"), features);
  }
  return steps > kUntimedSteps ? total / static_cast<double>(steps - kUntimedSteps) : 0;
}

// Writes DIR/{config.json, inputs.npy, labels.npy, padding_mask.npy?, init.safetensors} and
// computes the trainer's model's loss on the first batch in eval mode.
Prepared prepare(const TrainBenchConfig& c, const std::vector<std::string>& overrides, const TrainBenchSettings& s,
                 const std::string& dir) {
  Prepared p;
  p.recipe = run::load_recipe(c.recipe, overrides);
  const run::Recipe& r = p.recipe;
  const auto dataset = run::build_dataset(r);
  const auto split = run::split_or_error(*dataset, "train", "data");
  const datasets::Batch all = split->batch(train::index_range(0, split->size()));
  io::write_npy(dir + "/inputs.npy", all.inputs);
  io::write_npy(dir + "/labels.npy", all.labels);
  if (all.padding_mask.defined()) io::write_npy(dir + "/padding_mask.npy", all.padding_mask);

  torch::manual_seed(static_cast<uint64_t>(r.seed));
  const auto model = run::build_model(r, dataset->spec());
  checkpoint::save_weights(*model, dir + "/init.safetensors");
  for (const auto& t : model->parameters()) p.parameters += t.numel();

  // The first batch exactly as the trainer collates it (its own padding), in eval mode.
  const datasets::Batch first = split->batch(train::index_range(0, std::min(split->size(), r.train.batch_size)));
  model->eval();
  {
    torch::NoGradGuard no_grad;
    attention::ForwardContext ctx;
    const auto out = model->forward(train::model_input(first, torch::kCPU), ctx);
    p.check_loss = torch::nn::functional::cross_entropy(out.logits, first.labels).item<double>();
  }
  p.flops_per_step = mean_step_flops(r, all, s.steps);

  // Whether the split pads each batch to its own longest example (ListOps, text files) or hands out
  // rows of one fixed width: the Python side must collate the same way to do the same work.
  bool per_batch_width = false;
  for (int64_t k = 0; k < 10 && (k + 1) * r.train.batch_size <= split->size(); ++k) {
    const auto b = split->batch(train::index_range(k * r.train.batch_size, (k + 1) * r.train.batch_size));
    per_batch_width = per_batch_width || b.inputs.size(1) < all.inputs.size(1);
  }
  const auto spec = dataset->spec();
  nlohmann::json config = {
      {"name", c.name},
      {"model", value_json(*r.tree.find("model"))},
      {"optim", value_json(*r.tree.find("optim"))},
      {"schedule", value_json(*r.tree.find("schedule"))},
      {"drop_last", r.train.drop_last},
      {"collate", per_batch_width ? "longest" : "fixed"},
      {"spec", {{"num_classes", spec.num_classes}, {"vocab_size", spec.vocab_size}, {"feature_dim", spec.feature_dim},
                {"max_length", spec.max_length}, {"pad_id", spec.pad_id}}},
      {"batch_size", r.train.batch_size},
      {"steps", s.steps},
      {"warmup_steps_excluded", kUntimedSteps},
      {"threads", s.threads},
      {"grad_clip", r.train.grad_clip},
      {"label_smoothing", r.objective.label_smoothing},
      {"check_loss", p.check_loss}};
  io::write_file_atomic(dir + "/config.json", config.dump(2) + "\n");
  return p;
}

struct Measured {
  double steps_per_s = 0, examples_per_s = 0, peak_mib = 0;
  double loading_share = 0;  // the trainer's own timing of batch making (summary.json)
};

Measured run_trainer(const TrainBenchConfig& c, const std::vector<std::string>& overrides, const std::string& dir,
                     const std::string& run, bool premade) {
  std::vector<std::string> args = {"train", c.recipe};
  args.insert(args.end(), overrides.begin(), overrides.end());
  args.push_back("run_dir=" + dir + "/" + run);
  args.push_back("train.init_weights=" + dir + "/init.safetensors");
  if (premade) args.push_back("debug.premade_batches=true");
  const std::string log = dir + "/" + run + ".log";
  if (run_logged(args, log) != 0) throw UserError("bench train: " + c.name + ": the trainer failed:\n" + log_tail(log));
  const auto summary = io::read_json_file(dir + "/" + run + "/summary.json");
  const auto info = io::read_json_file(dir + "/" + run + "/run_info.json");
  if (!summary.contains("throughput")) throw UserError("bench train: " + c.name + ": no throughput in summary.json");
  Measured m;
  m.steps_per_s = summary["throughput"]["steps_per_s"].get<double>();
  m.examples_per_s = summary["throughput"]["examples_per_s"].get<double>();
  m.loading_share = summary["throughput"].value("loading_share", 0.0);
  m.peak_mib = info["invocations"].back().value("peak_resident_mib", 0.0);
  fs::remove_all(dir + "/" + run);  // checkpoints of every repeat would pile up
  return m;
}

Measured run_python(const TrainBenchSettings& s, const std::string& dir, const std::string& tag, bool check,
                    double* check_loss) {
  const std::string log = dir + "/python_" + tag + ".log";
  std::vector<std::string> args = {s.root + "/tools/bench/train_bench.py", dir};
  if (check) args.push_back("--check");
  // Python runs with the OpenMP wait policy a Python user would have: the trainer's passive
  // workers are attnlab's own doing (framework/runtime/threads.h), part of what is measured.
  const runtime::UserOpenMpWaitPolicy as_the_user_started;
  if (run_logged(args, log, s.python) != 0)
    throw UserError("bench train: " + s.python + " tools/bench/train_bench.py failed:\n" + log_tail(log));
  const auto j = last_json_line(log);
  Measured m;
  if (check) {
    *check_loss = j.at("check_loss").get<double>();
    return m;
  }
  m.steps_per_s = j.at("steps_per_s").get<double>();
  m.examples_per_s = j.at("samples_per_s").get<double>();
  m.peak_mib = j.at("peak_rss_mib").get<double>();
  return m;
}

}  // namespace

const std::vector<TrainBenchConfig>& train_bench_configs() {
  // Small: where per-step overhead shows; medium: where the matrix products dominate.
  static const std::vector<TrainBenchConfig> configs = {
      {"quickstart", "recipes/quickstart.yaml", "digits, 16 patch tokens, d 64, 2 layers, mha, batch 32", 400, {}},
      {"listops_mha_small", "recipes/mega/listops_transformer.yaml", "ListOps (up to 200 tokens), d 64, 2 layers, mha",
       60, {"model.layers=2"}},
      {"listops_moh_small", "recipes/mega/listops_transformer.yaml", "the same with moh (1 shared + top-2 of 3 routed)",
       60, {"model.layers=2", "model.attention={name: moh, heads: 4, shared_heads: 1, routed_topk: 2}"}},
      {"listops_mega_small", "recipes/mega/listops_transformer.yaml", "the same with mega attention", 60,
       {"model.layers=2", "model.attention={name: mega, z_dim: 32, ema_dim: 16, attention_fn: softmax, max_positions: 256}"}},
      {"listops_mha_medium", "recipes/mega/listops_transformer.yaml", "ListOps, d 256, 4 layers, mha (8 heads)", 20,
       {"model.d_model=256", "model.attention={name: mha, heads: 8}"}},
      {"listops_moh_medium", "recipes/mega/listops_transformer.yaml", "the same with moh (2 shared + top-4 of 6)", 20,
       {"model.d_model=256", "model.attention={name: moh, heads: 8, shared_heads: 2, routed_topk: 4}"}},
      {"listops_mega_medium", "recipes/mega/listops_transformer.yaml", "the same with mega attention", 20,
       {"model.d_model=256", "model.attention={name: mega, z_dim: 64, ema_dim: 16, attention_fn: softmax, max_positions: 256}"}},
      {"bilstm_small", "recipes/attention_at/evidence_vanilla.yaml", "evidence text, BiLSTM 64 + additive attention", 150,
       {}},
      {"bilstm_medium", "recipes/attention_at/evidence_vanilla.yaml", "evidence text, BiLSTM 256 + additive attention", 40,
       {"model.embed_dim=256", "model.hidden=256", "model.attention_dim=256"}},
  };
  return configs;
}

double matmul_gflops(int64_t n, int64_t threads) {
  const int previous = at::get_num_threads();
  at::set_num_threads(static_cast<int>(threads));
  const auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up: BLAS threads and buffers
  std::vector<double> rates;
  for (int i = 0; i < 7; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(2.0 * std::pow(static_cast<double>(n), 3) / s / 1e9);
  }
  at::set_num_threads(previous);
  return median_of(rates);
}

TrainBenchResult run_train_bench(const TrainBenchSettings& s) {
  std::vector<TrainBenchConfig> chosen;
  for (auto c : train_bench_configs()) {
    if (!s.configs.empty() && std::find(s.configs.begin(), s.configs.end(), c.name) == s.configs.end()) continue;
    c.recipe = s.root + "/" + c.recipe;
    chosen.push_back(c);
  }
  for (const auto& name : s.configs) {
    if (std::none_of(chosen.begin(), chosen.end(), [&](const auto& c) { return c.name == name; })) {
      std::string known;
      for (const auto& c : train_bench_configs()) known += (known.empty() ? "" : ", ") + c.name;
      throw UserError("--configs: unknown configuration '" + name + "'; known: " + known);
    }
  }
  for (const auto& c : chosen)
    if (!fs::exists(c.recipe)) throw UserError("bench train: " + c.recipe + " not found (run from the repository root or pass --root)");
  if (!s.python.empty() && !fs::exists(s.root + "/tools/bench/train_bench.py"))
    throw UserError("bench train: " + s.root + "/tools/bench/train_bench.py not found (pass --root)");

  TrainBenchResult result;
  result.threads = s.threads > 0 ? s.threads : static_cast<int64_t>(std::thread::hardware_concurrency());
  TrainBenchSettings settings = s;
  settings.threads = result.threads;
  result.matmul_gflops = matmul_gflops(1024, result.threads);

  const ScratchDir scratch("attnlab-bench-train");
  const std::string& root = scratch.path();

  for (const auto& c : chosen) {
    const std::string dir = root + "/" + c.name;
    fs::create_directories(dir);
    TrainBenchSettings run_settings = settings;
    run_settings.steps = s.steps > 0 ? s.steps : c.steps;
    // Both sides see the same batches in the same order; one evaluation, at the end.
    std::vector<std::string> overrides = c.overrides;
    const std::vector<std::string> common = {
        "train.steps=" + std::to_string(run_settings.steps), "train.epochs=0", "train.shuffle=false",
        "train.threads=" + std::to_string(settings.threads), "train.progress=none",
        "train.eval_every=" + std::to_string(run_settings.steps), "eval.test_split=", "train.log_every=50",
        "train.deterministic=false"};
    overrides.insert(overrides.end(), common.begin(), common.end());
    overrides.insert(overrides.end(), s.overrides.begin(), s.overrides.end());
    std::fprintf(stderr, "bench train: %s (%s)\n", c.name.c_str(), c.description.c_str());
    const Prepared p = prepare(c, overrides, run_settings, dir);
    TrainBenchRow row;
    row.config = c.name;
    row.parameters = p.parameters;
    row.check_loss_cpp = p.check_loss;
    if (!settings.python.empty()) {
      run_python(settings, dir, "check", true, &row.check_loss_python);
      if (std::abs(row.check_loss_python - row.check_loss_cpp) > 1e-4 * std::max(1.0, std::abs(row.check_loss_cpp)))
        throw UserError("bench train: " + c.name + ": the Python model's first-batch loss " +
                        std::to_string(row.check_loss_python) + " differs from the trainer's " +
                        std::to_string(row.check_loss_cpp) + ": not the same model");
    }
    std::vector<double> cpp_rate, cpp_examples, cpp_peak, cpp_loading, premade_rate, py_rate, py_examples, py_peak;
    for (int64_t k = 0; k < s.repeats; ++k) {  // alternating, so drifting machine load hits every side
      const Measured m = run_trainer(c, overrides, dir, "cpp_" + std::to_string(k), false);
      cpp_rate.push_back(m.steps_per_s), cpp_examples.push_back(m.examples_per_s), cpp_peak.push_back(m.peak_mib);
      cpp_loading.push_back(m.loading_share);
      premade_rate.push_back(run_trainer(c, overrides, dir, "premade_" + std::to_string(k), true).steps_per_s);
      if (!settings.python.empty()) {
        const Measured py = run_python(settings, dir, std::to_string(k), false, nullptr);
        py_rate.push_back(py.steps_per_s), py_examples.push_back(py.examples_per_s), py_peak.push_back(py.peak_mib);
      }
    }
    row.cpp_steps_per_s = median_of(cpp_rate);
    row.cpp_examples_per_s = median_of(cpp_examples);
    row.cpp_peak_mib = median_of(cpp_peak);
    if (!py_rate.empty()) {
      row.python_steps_per_s = median_of(py_rate);
      row.python_examples_per_s = median_of(py_examples);
      row.python_peak_mib = median_of(py_peak);
      row.ratio = row.cpp_steps_per_s / row.python_steps_per_s;
    }
    row.premade_steps_per_s = median_of(premade_rate);
    row.data_loading_share = 1.0 - row.cpp_steps_per_s / row.premade_steps_per_s;
    row.timed_loading_share = median_of(cpp_loading);
    row.train_gflops = p.flops_per_step * row.cpp_steps_per_s / 1e9;
    result.rows.push_back(row);
  }
  return result;
}

}  // namespace attnlab::tools
