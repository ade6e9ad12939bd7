// `attnlab bench train`: parses the options, runs tools/bench/train_bench.h and prints its table.
#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "framework/run/build_info.h"
#include "tools/bench/train_bench.h"
#include "tools/commands/bench_command.h"
#include "tools/commands/option_values.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab bench train [--configs NAME,...] [--steps N] [--repeats 3] [--threads N]\n"
    "                           [--python python3 | --no-python] [--root .] [--json FILE] [key=value ...]\n"
    "\n"
    "Trains each configuration with the trainer (`attnlab train`) and with the same model in Python\n"
    "PyTorch (tools/bench/train_bench.py: same initial weights, data, batches, optimizer, threads),\n"
    "alternating, --repeats times each, and prints medians: steps/s, examples/s, peak resident memory,\n"
    "the ratio C++/Python, the trainer's steps/s with every batch made before the first step\n"
    "(debug.premade_batches) and the share of step time that loading takes (by that difference, and as\n"
    "the trainer's own timer of batch making, `timed%`), and for the transformer\n"
    "configurations the achieved GFLOP/s and its fraction of this machine's float32 matmul GFLOP/s\n"
    "(1024^3, same threads). The first 5 steps of every run are not timed; --steps (default: each\n"
    "configuration's, below) sets the steps per run. Before timing, both sides must give the same\n"
    "loss on the first batch.\n"
    "--root is the repository (recipes/, tools/bench/); key=value overrides go to every trainer run\n"
    "(e.g. train.blas_threads=2). Configurations:\n";

}  // namespace

int bench_train(const Args& args) {
  if (wants_help(args)) {
    std::fputs(kHelp, stdout);
    for (const auto& c : train_bench_configs())
      std::printf("  %-20s %4lld steps  %s\n", c.name.c_str(), (long long)c.steps, c.description.c_str());
    return 0;
  }
  TrainBenchSettings s;
  std::string json_path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& key = args[i];
    if (key == "--no-python") {
      s.python.clear();
      continue;
    }
    if (key.find('=') != std::string::npos && key.rfind("--", 0) != 0) {  // a trainer override
      s.overrides.push_back(key);
      continue;
    }
    if (i + 1 >= args.size()) throw UserError(key + ": missing value (see attnlab bench train --help)");
    const std::string& value = args[++i];
    if (key == "--configs") s.configs = parse_list_option(key, value);
    else if (key == "--steps") s.steps = parse_int_option(key, value, 10);
    else if (key == "--repeats") s.repeats = parse_int_option(key, value, 1);
    else if (key == "--threads") s.threads = parse_int_option(key, value, 0);
    else if (key == "--python") s.python = value;
    else if (key == "--root") s.root = value;
    else if (key == "--json") json_path = value;
    else throw UserError("unknown option '" + key + "' (see attnlab bench train --help)");
  }
  const TrainBenchResult r = run_train_bench(s);
  std::printf("matmul (1024^3 float32, %lld threads): %.1f GFLOP/s\n", (long long)r.threads, r.matmul_gflops);
  std::printf("%-20s %9s %10s %10s %7s %10s %8s %8s %12s %6s %7s %8s %7s\n", "config", "params", "C++ st/s",
              "Py st/s", "C++/Py", "C++ ex/s", "C++ MiB", "Py MiB", "premade st/s", "load%", "timed%", "GFLOP/s",
              "%peak");
  for (const auto& row : r.rows) {
    char py[32] = "-", ratio[32] = "-", pymib[32] = "-", gflops[32] = "-", peak[32] = "-";
    if (row.python_steps_per_s > 0) {
      std::snprintf(py, sizeof py, "%.2f", row.python_steps_per_s);
      std::snprintf(ratio, sizeof ratio, "%.2f", row.ratio);
      std::snprintf(pymib, sizeof pymib, "%.0f", row.python_peak_mib);
    }
    if (row.train_gflops > 0) {
      std::snprintf(gflops, sizeof gflops, "%.1f", row.train_gflops);
      std::snprintf(peak, sizeof peak, "%.0f%%", 100 * row.train_gflops / r.matmul_gflops);
    }
    std::printf("%-20s %9lld %10.2f %10s %7s %10.0f %8.0f %8s %12.2f %5.1f%% %6.2f%% %8s %7s\n", row.config.c_str(),
                (long long)row.parameters, row.cpp_steps_per_s, py, ratio, row.cpp_examples_per_s, row.cpp_peak_mib,
                pymib, row.premade_steps_per_s, 100 * row.data_loading_share, 100 * row.timed_loading_share, gflops,
                peak);
  }
  if (!json_path.empty()) {
    nlohmann::json j = {{"machine", {{"cores", std::thread::hardware_concurrency()}, {"torch_version", TORCH_VERSION},
                                     {"threads", r.threads}, {"matmul_gflops", r.matmul_gflops}}},
                        {"commit", run::build_git_commit()},
                        {"settings", {{"steps", s.steps}, {"repeats", s.repeats}, {"python", s.python}, {"overrides", s.overrides}}},
                        {"rows", nlohmann::json::array()}};
    for (const auto& row : r.rows)
      j["rows"].push_back({{"config", row.config}, {"parameters", row.parameters},
                           {"check_loss_cpp", row.check_loss_cpp}, {"check_loss_python", row.check_loss_python},
                           {"cpp_steps_per_s", row.cpp_steps_per_s}, {"python_steps_per_s", row.python_steps_per_s},
                           {"ratio", row.ratio}, {"cpp_examples_per_s", row.cpp_examples_per_s},
                           {"python_examples_per_s", row.python_examples_per_s}, {"cpp_peak_mib", row.cpp_peak_mib},
                           {"python_peak_mib", row.python_peak_mib}, {"premade_steps_per_s", row.premade_steps_per_s},
                           {"data_loading_share", row.data_loading_share},
                           {"timed_loading_share", row.timed_loading_share}, {"train_gflops", row.train_gflops}});
    std::ofstream out(json_path);
    if (!(out << j.dump(2) << "\n")) throw UserError("--json " + json_path + ": cannot write");
  }
  return 0;
}

}  // namespace attnlab::tools
