// `attnlab train ... debug.profile_steps=N`: the op table of N steps after the warm-up lands in
// <run_dir>/profile/, a run too short to profile says so, and a negative count is refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::string kTiny = source_path("tests/tools/data/tiny.yaml");

TEST(ProfileCli, WritesTheOpTableOfTheStepsAfterTheWarmup) {
  const std::string dir = make_temp_dir("profile");
  const auto r =
      run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=8", "debug.profile_steps=2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(
      r.output.find("profile of steps 6-7 (debug.profile_steps): " + dir + "/profile/ops.txt"),
      std::string::npos)
      << r.output;
  const std::string table = read_text(dir + "/profile/ops.txt");
  EXPECT_NE(table.find("# 2 optimizer steps profiled (from step 6)"), std::string::npos) << table;
  // The encoder's linear layers, forward and backward.
  EXPECT_TRUE(table.find("aten::addmm") != std::string::npos ||
              table.find("aten::mm") != std::string::npos)
      << table;
  EXPECT_NE(table.find("Backward"), std::string::npos) << table;
  const auto ops = nlohmann::json::parse(read_text(dir + "/profile/ops.json"));
  EXPECT_EQ(ops.at("steps"), 2);
  EXPECT_FALSE(ops.at("ops").empty());
  EXPECT_TRUE(std::filesystem::exists(dir + "/profile/trace.json"));
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/summary.json")).at("status"), "completed");
}

TEST(ProfileCli, ProfilesWhatRemainsAndSaysWhenNothingDoes) {
  const std::string some = make_temp_dir("profile_some");
  auto r =
      run_attnlab({"train", kTiny, "run_dir=" + some, "train.steps=7", "debug.profile_steps=5"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_text(some + "/profile/ops.txt").find("# 2 optimizer steps profiled"),
            std::string::npos);

  const std::string none = make_temp_dir("profile_none");
  r = run_attnlab({"train", kTiny, "run_dir=" + none, "train.steps=3", "debug.profile_steps=2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("debug.profile_steps: no step profiled"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(none + "/profile"));
}

TEST(ProfileCli, RefusesANegativeCount) {
  const auto r = run_attnlab({"config", kTiny, "debug.profile_steps=-1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("debug.profile_steps"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing
