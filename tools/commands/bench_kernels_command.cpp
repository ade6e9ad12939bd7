// `attnlab bench kernels`: parses the options, runs tools/bench/kernel_bench.h and prints one
// table (plus JSON on request) with the device, LibTorch version and commit it was measured at.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "framework/run/build_info.h"
#include "tools/bench/attention_bench.h"
#include "tools/bench/kernel_bench.h"
#include "tools/commands/bench_command.h"
#include "tools/commands/option_values.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab bench kernels [--device cuda] [--cases NAME,...] [--lengths T,...]\n"
    "                             [--dtypes float32,bfloat16] [--batch 4] [--d-model 256]\n"
    "                             [--repeats 10] [--warmup 3] [--json FILE]\n"
    "\n"
    "Times each custom CUDA kernel against the ATen path it replaces, on the same module and input\n"
    "(kernels switched off and on): medians of --repeats synchronised iterations. Columns: ATen ms,\n"
    "kernel ms, speed-up, the kernel's essential bytes per second and its fraction of the device's\n"
    "measured copy bandwidth, the largest difference between the two outputs, and for MoH its\n"
    "speed-up over mha at the same shape. --device cpu times the ATen side only (a check of the\n"
    "cases without a GPU). Default lengths: 1024-16384 for the EMA, 512-4096 for attention.\n"
    "tools/gpu_check.sh runs this on a GPU machine. Cases:\n"
    "  ema_fwd        Mega EMA forward (bidirectional, h = 16): chunked scan vs FFT\n"
    "  ema_fwd_bwd    the same, forward + backward\n"
    "  tap_attention  softmax attention + row entropy, fwd + bwd: fused kernel vs ATen\n"
    "  mha            the mha module, 8 heads, fwd + bwd\n"
    "  moh75, moh50   the moh module (2 shared + 4 or 2 of 6 routed heads, skip_unselected)\n";

std::string vs_mha(const KernelBenchRow& row) {
  if (row.speedup_over_mha <= 0.0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2fx", row.speedup_over_mha);
  return text;
}

void write_json(const std::string& path, const KernelBenchSettings& s, const KernelBenchResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : r.rows)
    rows.push_back({{"case", row.name}, {"dtype", row.dtype}, {"length", row.length}, {"ok", row.ok},
                    {"error", row.error}, {"aten_ms", row.aten_ms}, {"kernel_ms", row.kernel_ms},
                    {"speedup", row.speedup}, {"kernel_gbps", row.kernel_gbps},
                    {"fraction_of_copy", row.fraction_of_copy}, {"max_abs_diff", row.max_abs_diff},
                    {"speedup_over_mha", row.speedup_over_mha}});
  const nlohmann::json j = {
      {"machine", {{"device", r.device_name}, {"copy_gbps", r.copy_gbps},
                   {"torch_version", torch_version_string()}, {"commit", run::build_git_commit()}}},
      {"settings", {{"batch", s.batch}, {"d_model", s.d_model}, {"repeats", s.repeats}, {"warmup", s.warmup}}},
      {"rows", rows}};
  std::ofstream out(path);
  if (!(out << j.dump(2) << "\n")) throw UserError("--json " + path + ": cannot write");
}

}  // namespace

int bench_kernels(const Args& args) {
  if (wants_help(args)) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  KernelBenchSettings s;
  std::string json_path;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& key = args[i];
    if (i + 1 >= args.size()) throw UserError(key + ": missing value (see attnlab bench kernels --help)");
    const std::string& value = args[++i];
    if (key == "--device") s.device = value;
    else if (key == "--cases") s.cases = parse_list_option(key, value);
    else if (key == "--dtypes") s.dtypes = parse_list_option(key, value);
    else if (key == "--lengths") {
      s.lengths.clear();
      for (const auto& t : parse_list_option(key, value)) s.lengths.push_back(parse_int_option(key, t, 1));
    } else if (key == "--batch") s.batch = parse_int_option(key, value, 1);
    else if (key == "--d-model") s.d_model = parse_int_option(key, value, 1);
    else if (key == "--repeats") s.repeats = parse_int_option(key, value, 1);
    else if (key == "--warmup") s.warmup = parse_int_option(key, value, 0);
    else if (key == "--json") json_path = value;
    else throw UserError("unknown option '" + key + "' (see attnlab bench kernels --help)");
  }
  if (s.device != "cuda" && s.device.rfind("cuda:", 0) != 0 && s.device != "cpu")
    throw UserError("--device: expected cuda, cuda:N or cpu, got '" + s.device + "'");
  const KernelBenchResult r = run_kernel_bench(s);
  std::printf("device %s, LibTorch %s, commit %.12s, copy bandwidth %.0f GB/s; B=%lld D=%lld, medians of %lld\n",
              r.device_name.c_str(), torch_version_string().c_str(), run::build_git_commit(), r.copy_gbps,
              (long long)s.batch, (long long)s.d_model, (long long)s.repeats);
  std::printf("| %-13s | %-8s | %6s | %9s | %9s | %8s | %8s | %7s | %9s | %7s |\n", "case", "dtype", "T",
              "ATen ms", "kernel ms", "speed-up", "GB/s", "of copy", "max diff", "vs mha");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "---------------", "----------", "--------",
              "-----------", "-----------", "----------", "----------", "---------", "-----------", "---------");
  for (const auto& row : r.rows) {
    if (!row.ok) {
      std::printf("| %-13s | %-8s | %6lld | failed: %s |\n", row.name.c_str(), row.dtype.c_str(),
                  (long long)row.length, row.error.c_str());
    } else if (row.kernel_ms == 0.0) {
      std::printf("| %-13s | %-8s | %6lld | %9.3f | %9s | %8s | %8s | %7s | %9s | %7s |\n", row.name.c_str(),
                  row.dtype.c_str(), (long long)row.length, row.aten_ms, "-", "-", "-", "-", "-",
                  vs_mha(row).c_str());
    } else {
      std::printf("| %-13s | %-8s | %6lld | %9.3f | %9.3f | %7.2fx | %8.0f | %6.0f%% | %9.2e | %7s |\n",
                  row.name.c_str(), row.dtype.c_str(), (long long)row.length, row.aten_ms, row.kernel_ms,
                  row.speedup, row.kernel_gbps, 100.0 * row.fraction_of_copy, row.max_abs_diff,
                  vs_mha(row).c_str());
    }
  }
  if (!json_path.empty()) write_json(json_path, s, r);
  return 0;
}

}  // namespace attnlab::tools
