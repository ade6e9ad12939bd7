// `attnlab bench kernels` without a GPU: --device cpu times the ATen side of every case and the
// CPU dropout kernel (so the cases and the table are exercised on every machine), the JSON holds
// the same rows, the default device fails with one clear line when there is no CUDA device, and
// bad options exit 2. Nothing here asserts a time (DESIGN.md §7).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

TEST(BenchKernelsCli, CpuRunTimesTheAtenSideOfEveryCase) {
  const std::string json_path = make_temp_dir("bench_kernels") + "/kernels.json";
  const auto r = run_attnlab({"bench", "kernels", "--device", "cpu", "--lengths", "1,33", "--batch", "2",
                              "--d-model", "16", "--repeats", "1", "--warmup", "0", "--json", json_path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("failed"), std::string::npos) << r.output;
  const auto json = nlohmann::json::parse(read_text(json_path));
  const auto& rows = json.at("rows");
  EXPECT_EQ(rows.size(), 7u * 2u * 2u);  // cases x dtypes x lengths
  for (const auto& row : rows) {
    EXPECT_TRUE(row.at("ok").get<bool>()) << row.dump();
    EXPECT_GT(row.at("aten_ms").get<double>(), 0.0) << row.dump();
    // The CUDA kernels do not run on a CPU; the counter-based dropout is a CPU kernel and does.
    if (row.at("case") == "dropout") {
      EXPECT_GT(row.at("kernel_ms").get<double>(), 0.0) << row.dump();
      EXPECT_LT(row.at("max_abs_diff").get<double>(), 0.5) << "kept fractions: " << row.dump();
    } else {
      EXPECT_EQ(row.at("kernel_ms").get<double>(), 0.0) << "no CUDA kernel runs on a CPU: " << row.dump();
    }
    const std::string line_start = "| " + row.at("case").get<std::string>();
    EXPECT_NE(r.output.find(line_start), std::string::npos) << r.output;
  }
  EXPECT_GT(json.at("machine").at("copy_gbps").get<double>(), 0.0);
  for (const auto& row : rows) {  // MoH rows carry their ratio to mha at the same shape
    const bool moh = row.at("case").get<std::string>().rfind("moh", 0) == 0;
    EXPECT_EQ(row.at("speedup_over_mha").get<double>() > 0.0, moh) << row.dump();
  }
}

TEST(BenchKernelsCli, NoCudaDeviceAndBadOptionsAreOneLineErrors) {
  if (!torch::cuda::is_available()) {
    const auto r = run_attnlab({"bench", "kernels", "--lengths", "8"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("no CUDA device here"), std::string::npos) << r.output;
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"bench", "kernels", "--device", "cpu", "--cases", "nope"},
           {"bench", "kernels", "--device", "tpu"},
           {"bench", "kernels", "--device", "cpu", "--dtypes", "float16", "--lengths", "4"},
           {"bench", "kernels", "--repeats"}}) {
    const auto r = run_attnlab(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  }
}

}  // namespace
}  // namespace attnlab::testing
