// The abstention stage end to end: a shortened digits run with `abstention.enabled` calibrates
// every method after training and runs a small corruption sweep; `attnlab calibrate` reuses the
// cached model outputs with other settings; files of logits from elsewhere are calibrated too, and
// a bad file is one line naming the file and line, exit 2.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

TEST(AbstentionCli, TrainingRunsTheStageAndCalibrateReusesItsOutputs) {
  const std::string dir = make_temp_dir("digits-abstention");
  const auto r = run_attnlab({"train", source_path("recipes/abstention/digits_robustness.yaml"), "run_dir=" + dir,
                              "train.steps=200", "train.eval_every=100", "train.progress=none", "train.threads=1",
                              "abstention.rl_epochs=20", "abstention.corruptions=[blur]", "abstention.severities=[1, 5]"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("target coverage 0.900"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("robustness sweep"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir + "/abstention/results.json"));
  EXPECT_EQ(j.at("clean").at("methods").size(), 7u);
  ASSERT_EQ(j.at("sweep").size(), 2u);
  EXPECT_EQ(j.at("sweep")[1].at("condition"), "blur@5");
  // Heavy blur hurts the model: its accuracy falls below the clean one.
  EXPECT_LT(j.at("sweep")[1].at("model").at("accuracy").get<double>(),
            j.at("clean").at("model").at("accuracy").get<double>());
  EXPECT_TRUE(std::filesystem::exists(dir + "/abstention/outputs/test_blur_s5_probs.npy"));

  // Other settings: the model is not evaluated again (the outputs are cached), results change.
  const auto c = run_attnlab({"calibrate", dir, "alpha=0.2", "methods=[lac, dual_threshold]", "corruptions=[]"});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(c.output.find("class probabilities on"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("target coverage 0.800"), std::string::npos) << c.output;
  const auto k = nlohmann::json::parse(read_text(dir + "/abstention/results.json"));
  EXPECT_EQ(k.at("clean").at("methods").size(), 2u);
  EXPECT_EQ(k.at("sweep").size(), 0u);
  // --recompute evaluates again.
  const auto again = run_attnlab({"calibrate", dir, "--recompute", "methods=[lac]", "corruptions=[]"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("class probabilities on"), std::string::npos) << again.output;
}

TEST(AbstentionCli, CalibratesLogitsFilesAndNamesTheBadLine) {
  const std::string dir = make_temp_dir("abstention-files");
  std::string cal = "label,a,b,c\n", test = "label,a,b,c\n", both;
  for (int i = 0; i < 60; ++i) {
    const int y = i % 3;
    std::string row = std::to_string(y);
    for (int c = 0; c < 3; ++c) row += "," + std::to_string(c == y ? 2.0 + (i % 5) * 0.3 : (i % 7) * 0.25);
    (i < 30 ? cal : test) += row + "\n";
    both += "{\"logits\": [" + row.substr(2) + "], \"label\": " + std::to_string(y) + "}\n";
  }
  write_text(dir + "/cal.csv", cal);
  write_text(dir + "/test.csv", test);
  write_text(dir + "/all.jsonl", both);
  const auto r = run_attnlab({"calibrate", "--cal", dir + "/cal.csv", "--test", dir + "/test.csv",
                              "--output", dir + "/r.json", "methods=[lac, aps, dual_threshold, rl_sound]", "rl_epochs=5"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rl_sound"), std::string::npos) << r.output;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/r.json")).at("clean").at("methods").size(), 4u);
  const auto s = run_attnlab({"calibrate", "--data", dir + "/all.jsonl", "--cal-fraction", "0.5", "methods=[lac]", "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(nlohmann::json::parse(lines_of(s.output).back()).at("clean").at("model").at("items"), 30);

  write_text(dir + "/bad.csv", "label,a,b,c\n0,1,2,3\n1,2,nan,1\n");
  const auto bad = run_attnlab({"calibrate", "--cal", dir + "/bad.csv", "--test", dir + "/test.csv"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.csv:3: column 'b': 'nan' is not a finite number"), std::string::npos) << bad.output;
  write_text(dir + "/split.csv", "label,split,a,b\n0,test,1,2\n");
  const auto empty = run_attnlab({"calibrate", "--data", dir + "/split.csv"});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("split 'cal' is empty"), std::string::npos) << empty.output;
}

}  // namespace
}  // namespace attnlab::testing
