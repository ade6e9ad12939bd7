// Wall-clock and memory measurement of the attention modules (DESIGN.md §7: benchmarks are tools,
// never tests). One iteration = forward of x (B, T, D) -> out (B, T, D), then backward of
// out.sum() into x and every parameter, with a fresh ForwardContext that records nothing (so MoH's
// skip path may run). Each (module, T) runs in its own forked child process, so the peak resident
// memory of one measurement does not bleed into the next and a crash (e.g. out of memory) becomes
// that row's error instead of ending the whole run. These functions return rows and print nothing;
// `attnlab bench attention` (tools/commands/bench_command.cpp) prints them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attention/attention.h"

namespace attnlab::tools {

struct AttentionBenchSettings {
  std::vector<int64_t> lengths = {256, 512, 1024, 2048};
  std::vector<std::string> modules;  // empty: attention_bench_modules()
  int64_t d_model = 64;
  int64_t batch = 2;
  int64_t repeats = 5;   // timed iterations
  int64_t warmup = 2;    // untimed iterations first (allocator, lazy init)
  int64_t threads = 0;   // intra-op threads; 0: LibTorch's default
};

struct AttentionBenchRow {
  std::string module;
  int64_t length = 0;
  bool ok = false;
  std::string error;            // why the row failed, one line (ok == false)
  double median_ms = 0.0;       // per forward + backward iteration
  double min_ms = 0.0;
  double ratio_to_mha = 0.0;    // median / mha's median at the same T; 0 when there is no mha row
  double peak_rss_mb = 0.0;     // peak resident memory growth in the child (MiB); see README
  int64_t threads = 0;          // intra-op threads the child used
  int64_t parameters = 0;       // number of parameter elements of the module
};

// Every module name the bench knows, in table order: mha, moh100, moh75, moh75_skip, moh50,
// moh50_skip, mega, mega_chunk.
const std::vector<std::string>& attention_bench_modules();

// Builds the named module for sequences of `length` (Mega's full attention needs
// max_positions >= length). Throws attnlab::UserError for an unknown name.
attention::AttentionPtr make_bench_module(const std::string& name, int64_t d_model, int64_t length);

// Measures one (module, length) in this process; a failure (c10::Error, bad_alloc) is returned as
// a row with ok == false. Changes torch's thread count when settings.threads > 0.
AttentionBenchRow measure_attention(const std::string& module, int64_t length,
                                    const AttentionBenchSettings& settings);

// The same in a forked child; a child killed by a signal or exiting without a row gives a failed
// row naming why. The parent process does no torch compute, so forking stays safe with OpenMP.
AttentionBenchRow measure_attention_isolated(const std::string& module, int64_t length,
                                             const AttentionBenchSettings& settings);

// Every module x length of `settings` (isolated), rows ordered by module then length, with
// ratio_to_mha filled where mha ran at that T. `on_row`, when given, sees each row as soon as it is
// measured (before the ratios exist), for progress on long runs. Throws UserError for invalid
// settings.
std::vector<AttentionBenchRow> run_attention_bench(
    const AttentionBenchSettings& settings,
    const std::function<void(const AttentionBenchRow&)>& on_row = nullptr);

// The torch version compiled against, e.g. "1.13.0".
std::string torch_version_string();

}  // namespace attnlab::tools
