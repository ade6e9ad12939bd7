// `attnlab bench attention`: parses the options, runs tools/bench/attention_bench.h and prints one
// row per (module, T): median and min ms per forward + backward, the ratio to mha's median at the
// same T, and the peak resident memory growth of the forked child that measured it.
#include "tools/commands/bench_command.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "framework/errors.h"
#include "tools/bench/attention_bench.h"
#include "tools/bench/distributed_bench.h"
#include "tools/commands/option_values.h"

namespace attnlab::tools {
namespace {

const char* kDistributedHelp =
    "usage: attnlab bench distributed [--steps 300] [--batch 32] [--bucket-mb 25] [--nproc 2]\n"
    "                                 [--recipe recipes/quickstart.yaml] [--json FILE]\n"
    "\n"
    "Trains the recipe for --steps steps with one process and with --nproc processes (attnlab launch),\n"
    "the same --batch per process, one thread each, in a temporary directory, and prints steps/s and\n"
    "examples/s of both, the speed-up in examples/s, and for the multi-process run the median time a\n"
    "step waited for its gradient buckets after backward and the median number of buckets that left\n"
    "during backward (overlap). Run it from the repository root (or pass --recipe).\n";

int bench_distributed(const Args& args) {
  if (wants_help(args)) {
    std::fputs(kDistributedHelp, stdout);
    return 0;
  }
  DistributedBenchSettings s;
  std::string json_path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& key = args[i];
    if (i + 1 >= args.size()) throw UserError(key + ": missing value (see attnlab bench distributed --help)");
    const std::string& value = args[++i];
    if (key == "--steps") s.steps = parse_int_option(key, value, 1);
    else if (key == "--batch") s.batch = parse_int_option(key, value, 1);
    else if (key == "--nproc") s.nproc = parse_int_option(key, value, 2);
    else if (key == "--bucket-mb") s.bucket_mb = parse_positive_option(key, value);
    else if (key == "--recipe") s.recipe = value;
    else if (key == "--json") json_path = value;
    else throw UserError("unknown option '" + key + "' (see attnlab bench distributed --help)");
  }
  const DistributedBenchResult r = run_distributed_bench(s);
  std::printf("%-12s %10s %12s %9s\n", "processes", "steps/s", "examples/s", "speed-up");
  std::printf("%-12d %10.1f %12.0f %9s\n", 1, r.single_steps_per_s, r.single_examples_per_s, "1.00");
  std::printf("%-12lld %10.1f %12.0f %9.2f\n", (long long)s.nproc, r.multi_steps_per_s, r.multi_examples_per_s, r.speedup);
  std::printf("%lld processes: median wait for gradient buckets after backward %.3f ms per step; "
              "median %.0f of %lld buckets left during backward\n",
              (long long)s.nproc, r.median_wait_ms, r.median_buckets_during_backward, (long long)r.buckets);
  if (!json_path.empty()) {
    nlohmann::json j = {{"settings", {{"recipe", s.recipe}, {"steps", s.steps}, {"batch_per_process", s.batch},
                                      {"bucket_mb", s.bucket_mb}, {"nproc", s.nproc}, {"threads_per_process", 1}}},
                        {"machine", {{"cores", std::thread::hardware_concurrency()}, {"torch_version", torch_version_string()}}},
                        {"single", {{"steps_per_s", r.single_steps_per_s}, {"examples_per_s", r.single_examples_per_s}}},
                        {"multi", {{"steps_per_s", r.multi_steps_per_s}, {"examples_per_s", r.multi_examples_per_s},
                                   {"median_wait_ms", r.median_wait_ms},
                                   {"median_buckets_during_backward", r.median_buckets_during_backward},
                                   {"buckets", r.buckets}}},
                        {"speedup", r.speedup}};
    std::ofstream out(json_path);
    if (!(out << j.dump(2) << "\n")) throw UserError("--json " + json_path + ": cannot write");
  }
  return 0;
}

const char* kHelp =
    "usage: attnlab bench attention [--lengths 256,512,1024,2048] [--d-model 64] [--batch 2]\n"
    "                               [--repeats 5] [--warmup 2] [--threads N] [--json FILE]\n"
    "                               [--modules mha,moh100,moh75,moh75_skip,moh50,moh50_skip,mega,mega_chunk]\n"
    "\n"
    "Times forward + backward (of the output's sum) of each attention module on random x (B, T, D),\n"
    "CPU, float32, training mode, 8 heads for mha/moh: moh100/75/50 = 2 shared + 6/4/2 of 6 routed\n"
    "heads per token, _skip = skip_unselected; mega = full attention, mega_chunk = chunks of 128.\n"
    "Each (module, T) runs in its own child process after `warmup` untimed iterations; the table\n"
    "gives the median and min of `repeats` iterations, the median's ratio to mha at the same T, and\n"
    "the child's peak resident memory growth. A failing row reports its error; the exit code is 0.\n"
    "--threads 0 (default) keeps LibTorch's thread count. --json FILE also writes machine, settings\n"
    "and rows. Example:\n"
    "  attnlab bench attention --lengths 512,2048 --modules mha,moh75,moh75_skip --threads 2\n";

struct BenchOptions {
  AttentionBenchSettings settings;
  std::string json_path;
};

// Accepts `--key value` and `--key=value`.
BenchOptions parse_options(const Args& args) {
  BenchOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string key = args[i], value;
    const size_t eq = key.find('=');
    if (key.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (key.rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) throw UserError(key + ": missing value");
      value = args[++i];
    } else {
      throw UserError("unexpected argument '" + key + "' (see attnlab bench attention --help)");
    }
    auto& s = o.settings;
    if (key == "--lengths") {
      s.lengths.clear();
      for (const auto& t : parse_list_option(key, value)) s.lengths.push_back(parse_int_option(key, t));
    } else if (key == "--modules") {
      s.modules = parse_list_option(key, value);
    } else if (key == "--d-model") {
      s.d_model = parse_int_option(key, value);
    } else if (key == "--batch") {
      s.batch = parse_int_option(key, value);
    } else if (key == "--repeats") {
      s.repeats = parse_int_option(key, value);
    } else if (key == "--warmup") {
      s.warmup = parse_int_option(key, value);
    } else if (key == "--threads") {
      s.threads = parse_int_option(key, value);
    } else if (key == "--json") {
      o.json_path = value;
    } else {
      throw UserError("unknown option '" + key + "' (see attnlab bench attention --help)");
    }
  }
  return o;
}

void print_table(const std::vector<AttentionBenchRow>& rows) {
  std::printf("%-12s %6s %11s %11s %8s %10s\n", "module", "T", "median ms", "min ms", "x mha", "peak MiB");
  for (const auto& r : rows) {
    if (!r.ok) {
      std::printf("%-12s %6lld  failed: %s\n", r.module.c_str(), (long long)r.length, r.error.c_str());
      continue;
    }
    char ratio[32] = "-";
    if (r.ratio_to_mha > 0.0) std::snprintf(ratio, sizeof ratio, "%.2f", r.ratio_to_mha);
    std::printf("%-12s %6lld %11.2f %11.2f %8s %10.1f\n", r.module.c_str(), (long long)r.length,
                r.median_ms, r.min_ms, ratio, r.peak_rss_mb);
  }
}

void write_json(const std::string& path, const BenchOptions& o, const std::vector<AttentionBenchRow>& rows) {
  const auto& s = o.settings;
  int64_t threads = 0;  // as the children saw it: the parent never starts torch's thread pool
  for (const auto& r : rows)
    if (r.ok) threads = r.threads;
  nlohmann::json j;
  j["machine"] = {{"cores", std::thread::hardware_concurrency()},
                  {"torch_version", torch_version_string()},
                  {"threads", threads},
                  {"device", "cpu"}};
  j["settings"] = {{"lengths", s.lengths},
                   {"modules", s.modules.empty() ? attention_bench_modules() : s.modules},
                   {"d_model", s.d_model},
                   {"batch", s.batch},
                   {"repeats", s.repeats},
                   {"warmup", s.warmup},
                   {"threads", s.threads},
                   {"dtype", "float32"},
                   {"iteration", "forward + backward of out.sum(), training mode"},
                   {"memory", "peak RSS growth (VmHWM - VmRSS at start) in a forked child per row"}};
  j["rows"] = nlohmann::json::array();
  for (const auto& r : rows)
    j["rows"].push_back({{"module", r.module},
                         {"length", r.length},
                         {"ok", r.ok},
                         {"error", r.error},
                         {"median_ms", r.median_ms},
                         {"min_ms", r.min_ms},
                         {"ratio_to_mha", r.ratio_to_mha},
                         {"peak_rss_mb", r.peak_rss_mb},
                         {"threads", r.threads},
                         {"parameters", r.parameters}});
  std::ofstream out(path);
  if (!out) throw UserError("--json " + path + ": cannot open for writing");
  out << j.dump(2) << "\n";
  if (!out) throw UserError("--json " + path + ": write failed");
}

}  // namespace

int bench_command(const Args& args) {
  if (!args.empty() && args[0] == "distributed") return bench_distributed(Args(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "train") return bench_train(Args(args.begin() + 1, args.end()));
  if (!args.empty() && args[0] == "kernels") return bench_kernels(Args(args.begin() + 1, args.end()));
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "attention")
    throw UserError("unknown benchmark '" + args[0] + "' (known: attention, distributed, train)");
  const BenchOptions o = parse_options(Args(args.begin() + 1, args.end()));
  // Progress on stderr: the default sweep takes minutes on a small CPU.
  const std::vector<AttentionBenchRow> rows = run_attention_bench(o.settings, [](const AttentionBenchRow& r) {
    std::fprintf(stderr, "bench: %s T=%lld %s\n", r.module.c_str(), (long long)r.length,
                 r.ok ? "done" : "failed");
  });
  print_table(rows);
  if (!o.json_path.empty()) write_json(o.json_path, o, rows);
  return 0;
}

}  // namespace attnlab::tools
