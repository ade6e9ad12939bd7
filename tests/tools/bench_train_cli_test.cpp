// `attnlab bench train` on a tiny size: the trainer and the Python twin (tools/bench/train_bench.py,
// python3-torch from tools/setup.sh) train two configurations; both report throughput and memory,
// the first-batch losses agree (the command refuses otherwise), and the transformer's FLOP count
// gives an achieved rate. Benchmarks are tools, not tests: nothing here asserts a speed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

TEST(BenchTrainCli, TinyRunAgainstPython) {
  const std::string json_path = make_temp_dir("bench_train") + "/bench.json";
  const auto r = run_attnlab({"bench", "train", "--configs", "quickstart,bilstm_small", "--steps", "12", "--repeats", "1",
                              "--threads", "1", "--root", source_path(""), "--json", json_path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(json_path));
  ASSERT_EQ(j.at("rows").size(), 2u);
  EXPECT_GT(j.at("machine").at("matmul_gflops").get<double>(), 0.0);
  for (const auto& row : j.at("rows")) {
    SCOPED_TRACE(row.dump());
    EXPECT_GT(row.at("parameters").get<int64_t>(), 0);
    EXPECT_NEAR(row.at("check_loss_python").get<double>(), row.at("check_loss_cpp").get<double>(), 1e-4);
    EXPECT_GT(row.at("cpp_steps_per_s").get<double>(), 0.0);
    EXPECT_GT(row.at("python_steps_per_s").get<double>(), 0.0);
    EXPECT_GT(row.at("premade_steps_per_s").get<double>(), 0.0);
    EXPECT_GT(row.at("cpp_peak_mib").get<double>(), 0.0);
    EXPECT_GT(row.at("python_peak_mib").get<double>(), 0.0);
    EXPECT_TRUE(std::isfinite(row.at("ratio").get<double>()));
  }
  EXPECT_GT(j.at("rows")[0].at("train_gflops").get<double>(), 0.0);   // the encoder: FLOPs known
  EXPECT_EQ(j.at("rows")[1].at("train_gflops").get<double>(), 0.0);   // the BiLSTM: not counted
}

TEST(BenchTrainCli, MemoryGrowthScriptSamplesALongRun) {
  const std::string out = make_temp_dir("memory") + "/out.txt";
  const std::string command = "cd " + source_path("") + " && ATTNLAB=" + ATTNLAB_BINARY +
                              " SAMPLE_SECONDS=0.05 bash tools/bench/memory_growth.sh 400 tests/tools/data/tiny.yaml train.threads=1 > " +
                              out + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_text(out);
  const std::string text = read_text(out);
  EXPECT_NE(text.find("RSS at step"), std::string::npos) << text;
  EXPECT_NE(text.find("growth from 10% to the end"), std::string::npos) << text;
}

TEST(BenchTrainCli, UnknownConfigurationIsOneLine) {
  const auto r = run_attnlab({"bench", "train", "--configs", "quickstrat", "--root", source_path("")});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown configuration 'quickstrat'; known: quickstart"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing
