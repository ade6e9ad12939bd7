// Semi-supervised training from the command line: the labelled subset and the unlabelled batches
// are announced, the unlabelled order is part of the checkpoint (exact resume), and recipes that
// cannot work are refused before a run directory is made.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::string kTinySemi = source_path("tests/tools/data/tiny_semi.yaml");

TEST(SemiSupervisedCli, PausedAndResumedRunEqualsStraightRun) {
  const std::string straight = make_temp_dir("semi-straight");
  auto r = run_attnlab({"train", kTinySemi, "run_dir=" + straight, "train.steps=30"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("semi-supervised: 120 labelled examples, unlabelled batches of 8"), std::string::npos)
      << r.output;

  const std::string resumed = make_temp_dir("semi-resumed");
  r = run_attnlab({"train", kTinySemi, "run_dir=" + resumed, "train.steps=30", "train.stop_after_steps=13"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"train", kTinySemi, "run_dir=" + resumed, "train.steps=30"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_text(straight + "/metrics.jsonl"), read_text(resumed + "/metrics.jsonl"));
}

TEST(SemiSupervisedCli, UnusableSettingsAreRefusedWithoutARunDirectory) {
  const std::string dir = make_temp_dir("semi-bad") + "/run";
  auto r = run_attnlab({"train", kTinySemi, "run_dir=" + dir, "objective.regularizers=[]"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("semi_supervised.batch_size: no regularizer reads unlabelled data"), std::string::npos)
      << r.output;
  r = run_attnlab({"train", kTinySemi, "run_dir=" + dir, "semi_supervised.labelled_examples=100000"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("semi_supervised.labelled_examples: 100000 is more than the"), std::string::npos)
      << r.output;
  r = run_attnlab({"train", kTinySemi, "run_dir=" + dir, "semi_supervised.split=nope"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("semi_supervised.split: the dataset has no split 'nope'"), std::string::npos) << r.output;
  // Another source of unlabelled data must feed the model the same kind of inputs.
  r = run_attnlab({"train", kTinySemi, "run_dir=" + dir, "semi_supervised.data={name: digits, patch_size: 2}"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("semi_supervised.data: its inputs (vocabulary 0, features 4) differ"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace attnlab::testing
