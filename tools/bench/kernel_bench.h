// Timing of the custom CUDA kernels against the ATen paths they replace (DESIGN.md §7: benchmarks
// are tools, never tests). Each case builds one module on the device and times the same call with
// the kernels on and off (attention/kernels/cuda_kernels.h): medians of `repeats` synchronised
// iterations after `warmup` untimed ones. The device's copy bandwidth (a large device-to-device
// copy) is measured once as the memory roofline. On a CPU (--device cpu) only the ATen side runs,
// which checks the table and the cases on machines without a GPU -- except the dropout case, whose
// kernel is a CPU one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::tools {

struct KernelBenchSettings {
  std::string device = "cuda";
  std::vector<std::string> cases;  // empty: kernel_bench_cases()
  std::vector<int64_t> lengths;    // empty: each case's defaults (EMA 1K-16K, attention 512-4K)
  std::vector<std::string> dtypes = {"float32", "bfloat16"};
  int64_t batch = 4;
  int64_t d_model = 256;
  int64_t repeats = 10;
  int64_t warmup = 3;
};

struct KernelBenchRow {
  std::string name;  // case
  std::string dtype;
  int64_t length = 0;
  bool ok = false;
  std::string error;
  double aten_ms = 0.0;           // median, kernels off
  double kernel_ms = 0.0;         // median, kernels on (0 when not run: CPU, or no kernel applies)
  double speedup = 0.0;           // aten_ms / kernel_ms
  double kernel_gbps = 0.0;       // the case's essential bytes / kernel time
  double fraction_of_copy = 0.0;  // kernel_gbps / the device's copy bandwidth
  double max_abs_diff = 0.0;      // kernel output against the ATen output
  double speedup_over_mha = 0.0;  // moh rows: mha's time / this row's (kernels on where they ran)
};

struct KernelBenchResult {
  std::string device_name;
  double copy_gbps = 0.0;  // device-to-device copy: (read + write) bytes / s
  std::vector<KernelBenchRow> rows;
};

// ema_fwd, ema_fwd_bwd (bidirectional Mega EMA, h = 16: the scan against the FFT path);
// tap_attention (softmax attention + row entropy, fwd + bwd: the fused kernel against ATen);
// dropout (fwd + bwd of a (B, T, 4 d_model) activation: the counter-based CPU kernel against
// torch::dropout, on a CPU too);
// mha, moh75, moh50 (whole modules fwd + bwd; MoH with skip_unselected uses the head-sparse
// kernel).
const std::vector<std::string>& kernel_bench_cases();

KernelBenchResult run_kernel_bench(const KernelBenchSettings& settings);

}  // namespace attnlab::tools
