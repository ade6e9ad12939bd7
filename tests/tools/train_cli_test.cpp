// `attnlab train` end to end: the non-finite guard, the run directory's files, eval, and the
// quickstart recipe's accuracy band.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::string kTiny = source_path("tests/tools/data/tiny.yaml");

std::vector<nlohmann::json> records(const std::string& run_dir, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(read_text(run_dir + "/metrics.jsonl"))) {
    auto j = nlohmann::json::parse(line);
    if (j.at("kind") == kind) out.push_back(j);
  }
  return out;
}

TEST(TrainCli, WritesTheRunDirectory) {
  const std::string dir = make_temp_dir("files");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"recipe.yaml", "recipe.provenance.yaml", "metrics.jsonl", "summary.json",
                        "checkpoints/best.json", "checkpoints/step_000000060/manifest.json"})
    EXPECT_FALSE(read_text(dir + "/" + f).empty()) << f;
  const auto train = records(dir, "train");
  ASSERT_EQ(train.size(), 12u);  // every 5 of 60 steps
  for (const char* key : {"loss", "loss/task", "lr", "grad_norm", "epoch"}) EXPECT_TRUE(train[0].contains(key)) << key;
  const auto evals = records(dir, "eval");
  ASSERT_EQ(evals.size(), 3u);  // steps 20, 40, 60
  EXPECT_TRUE(evals[0].contains("accuracy"));
  EXPECT_TRUE(evals[0].contains("macro_f1"));
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("status"), "completed");
  EXPECT_TRUE(summary.at("final").contains("test"));
  EXPECT_NE(r.output.find("final test: loss"), std::string::npos) << r.output;
  EXPECT_NE(read_text(dir + "/recipe.provenance.yaml").find("tiny.yaml:"), std::string::npos);
  // Retention: the last two plus the best.
  const auto best = nlohmann::json::parse(read_text(dir + "/checkpoints/best.json"));
  EXPECT_EQ(best.at("monitor"), "val/accuracy");
}

TEST(TrainCli, EvalReloadsTheBestCheckpoint) {
  const std::string dir = make_temp_dir("eval");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"eval", dir, "--split", "val", "--json", "--checkpoint", "last"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(lines_of(r.output).back());
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  // The last checkpoint holds the final weights, so eval reproduces the final val metrics.
  EXPECT_DOUBLE_EQ(j.at("accuracy").get<double>(), summary.at("final").at("val").at("accuracy").get<double>());
  EXPECT_NEAR(j.at("loss").get<double>(), summary.at("final").at("val").at("loss").get<double>(), 1e-9);
  r = run_attnlab({"eval", dir + "/checkpoints/step_000000060", "--split", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no split 'nope'"), std::string::npos) << r.output;
}

TEST(TrainCli, NonFiniteLossIsSkippedAndCounted) {
  const std::string dir = make_temp_dir("nan1");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "debug.nan_loss_at_steps=[3, 7]"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: step 3 skipped"), std::string::npos) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("skipped_steps"), 2);
  EXPECT_EQ(records(dir, "train").back().at("skipped_steps"), 2);
  // The weights stayed finite: the final evaluation is a number.
  EXPECT_TRUE(std::isfinite(summary.at("final").at("val").at("loss").get<double>()));
}

TEST(TrainCli, RepeatedNonFiniteStepsStopTheRunNamingAParameter) {
  const std::string dir = make_temp_dir("nan2");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "debug.nan_loss_at_steps=[4, 5, 6]",
                              "train.max_nonfinite_in_row=3"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("stopping at step 6: 3 steps in a row had a non-finite loss or gradient"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("first parameter whose gradient went non-finite: embed.weight"), std::string::npos)
      << r.output;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/summary.json")).at("status"), "diverged");
}

TEST(TrainCli, QuickstartShortRunReachesItsAccuracyBand) {
  // 300 of the quickstart's 1500 steps; the band was recorded from this command (see README).
  const std::string dir = make_temp_dir("quick");
  const auto r = run_attnlab({"train", source_path("recipes/quickstart.yaml"), "run_dir=" + dir,
                              "train.steps=300", "train.eval_every=100", "train.threads=1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  const double acc = summary.at("final").at("test").at("accuracy").get<double>();
  EXPECT_GE(acc, QUICKSTART_SHORT_MIN_ACCURACY) << r.output;
  EXPECT_LE(acc, 1.0);
}

}  // namespace
}  // namespace attnlab::testing
