// `attnlab bench train` (issue 9): the trainer against the same model trained by Python PyTorch,
// and against this machine's matmul throughput.
//
// For each configuration (a recipe plus overrides) it prepares a directory with the training
// split as .npy arrays, the model's initial weights (init.safetensors) and config.json, then
// alternates, `repeats` times: `attnlab train` (the real trainer, shuffling off so both see the
// same batches, one evaluation at the end) and `python3 tools/bench/train_bench.py DIR` (the same
// model in Python PyTorch, same weights, data, batch, optimizer and threads). Steps per second come
// from each side's own timer over the steps after the first 5 (the trainer's summary.json
// "throughput": evaluations and checkpoints excluded); peak memory from each process's ru_maxrss.
// The trainer also runs with debug.premade_batches (the same batches, all made before the first
// step) to show what loading costs. Before timing, both sides compute the loss of the first batch in eval mode: equal losses
// show they train the same function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::tools {

struct TrainBenchConfig {
  std::string name, recipe, description;
  int64_t steps = 0;  // per run: enough for a few seconds of timed steps on 2 cores
  std::vector<std::string> overrides;
};
const std::vector<TrainBenchConfig>& train_bench_configs();

struct TrainBenchSettings {
  std::vector<std::string> configs;  // names; empty: all
  int64_t steps = 0;                 // per run (0: each configuration's own); the first 5 are not timed
  int64_t repeats = 3;
  int64_t threads = 0;               // 0: all cores
  std::string python = "python3";    // "" : C++ only
  std::string root = ".";            // the repository: recipes/ and tools/bench/train_bench.py
  std::vector<std::string> overrides;  // appended to every trainer run (e.g. train.blas_threads=2)
};

struct TrainBenchRow {
  std::string config;
  int64_t parameters = 0;
  double check_loss_cpp = 0, check_loss_python = 0;    // first batch, eval mode
  double cpp_steps_per_s = 0, python_steps_per_s = 0;  // medians over repeats
  double cpp_examples_per_s = 0, python_examples_per_s = 0;
  double ratio = 0;                                    // C++ / Python steps per second
  double cpp_peak_mib = 0, python_peak_mib = 0;        // medians of peak resident memory
  double premade_steps_per_s = 0;                      // the trainer with every batch made before the steps
  double data_loading_share = 0;                       // 1 - real-data / premade-batch steps per second
  double timed_loading_share = 0;  // the trainer's own timer: batch making / step time (summary.json)
  double train_gflops = 0;                             // achieved, when the model's FLOPs are known; else 0
};

struct TrainBenchResult {
  double matmul_gflops = 0;  // sustained float32 matmul, same threads and BLAS
  int64_t threads = 0;
  std::vector<TrainBenchRow> rows;
};

// UserError for an unknown configuration, a failing run (with its output's tail), or Python's loss
// disagreeing with the trainer's.
TrainBenchResult run_train_bench(const TrainBenchSettings& settings);

// Median GFLOP/s of an n x n x n float32 matmul on `threads` threads.
double matmul_gflops(int64_t n, int64_t threads);

}  // namespace attnlab::tools
