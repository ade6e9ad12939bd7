// Exact resume (DESIGN.md §5): a run stopped and resumed ends with bitwise-identical weights and
// an identical metrics.jsonl to a run that never stopped — paused by train.stop_after_steps,
// and killed by SIGTERM in the middle of an epoch.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::string kTiny = source_path("tests/tools/data/tiny.yaml");

std::string final_model(const std::string& run_dir) {
  const auto summary = nlohmann::json::parse(read_text(run_dir + "/summary.json"));
  char name[32];
  std::snprintf(name, sizeof name, "step_%09lld", (long long)summary.at("steps").get<int64_t>());
  return run_dir + "/checkpoints/" + name + "/model.pt";
}

void expect_same_run(const std::string& straight, const std::string& resumed) {
  std::string why;
  EXPECT_TRUE(archives_equal(final_model(straight), final_model(resumed), &why)) << why;
  EXPECT_EQ(read_text(straight + "/metrics.jsonl"), read_text(resumed + "/metrics.jsonl"));
  const auto a = nlohmann::json::parse(read_text(straight + "/summary.json"));
  const auto b = nlohmann::json::parse(read_text(resumed + "/summary.json"));
  EXPECT_EQ(a.at("final"), b.at("final"));
  EXPECT_EQ(b.at("status"), "completed");
}

TEST(Resume, PausedAndResumedRunEqualsStraightRun) {
  const std::string straight = make_temp_dir("straight");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + straight});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Train N = 25 steps (not a multiple of the eval or log interval), stop, then N more.
  const std::string resumed = make_temp_dir("resumed");
  r = run_attnlab({"train", kTiny, "run_dir=" + resumed, "train.stop_after_steps=25"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("paused after 25 steps"), std::string::npos) << r.output;
  r = run_attnlab({"train", kTiny, "run_dir=" + resumed, "train.stop_after_steps=25"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos) << r.output;
  r = run_attnlab({"train", kTiny, "run_dir=" + resumed});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_run(straight, resumed);

  // Running a finished run again reports it and changes nothing.
  r = run_attnlab({"train", kTiny, "run_dir=" + resumed});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("final test: loss"), std::string::npos) << r.output;
  expect_same_run(straight, resumed);
}

TEST(Resume, SigtermMidEpochSavesAndResumesExactly) {
  // Long enough that the signal lands mid-run; each step is a few milliseconds.
  const std::vector<std::string> args_tail = {"train.steps=400", "train.eval_every=100"};
  const std::string straight = make_temp_dir("straight-sig");
  std::vector<std::string> args = {"train", kTiny, "run_dir=" + straight};
  args.insert(args.end(), args_tail.begin(), args_tail.end());
  auto r = run_attnlab(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::string resumed = make_temp_dir("resumed-sig");
  args = {"train", kTiny, "run_dir=" + resumed};
  args.insert(args.end(), args_tail.begin(), args_tail.end());
  const std::string log = resumed + "/first.log";
  const int pid = start_attnlab(args, log);
  // Wait until training is under way (a logged step past the first evaluation's checkpoint).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_text(resumed + "/metrics.jsonl");
    if (text.find("\"step\":130") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGTERM);
  const int code = wait_for(pid);
  ASSERT_EQ(code, 128 + SIGTERM) << read_text(log);
  EXPECT_NE(read_text(log).find("interrupted by SIGTERM"), std::string::npos) << read_text(log);
  const auto summary = nlohmann::json::parse(read_text(resumed + "/summary.json"));
  EXPECT_EQ(summary.at("status"), "interrupted");
  const int64_t stopped_at = summary.at("steps").get<int64_t>();
  ASSERT_LT(stopped_at, 400) << "the run finished before the signal arrived";
  // The checkpoint of the interrupted step holds a position inside an epoch.
  char name[32];
  std::snprintf(name, sizeof name, "step_%09lld", (long long)stopped_at);
  const auto state = nlohmann::json::parse(read_text(resumed + "/checkpoints/" + name + "/trainer_state.json"));
  EXPECT_GT(state.at("sampler").at("offset").get<int64_t>(), 0);

  r = run_attnlab(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_run(straight, resumed);
}

TEST(Resume, NeverRefusesARunDirectoryWithCheckpoints) {
  const std::string dir = make_temp_dir("never");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=20"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=20", "train.resume=never"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("already has checkpoints and train.resume=never"), std::string::npos) << r.output;
}

TEST(Resume, CorruptLatestCheckpointFallsBackToThePreviousOne) {
  const std::string dir = make_temp_dir("corrupt");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.stop_after_steps=40"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Checkpoints at the evaluations (20) and at the pause (40); corrupt the newest.
  const std::string newest = dir + "/checkpoints/step_000000040/model.pt";
  std::string bytes = read_text(newest);
  ASSERT_GT(bytes.size(), 100u);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_text(newest, bytes);
  r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("step_000000040 is corrupt"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("resumed from"), std::string::npos);
  EXPECT_NE(r.output.find("step_000000020 at step 20"), std::string::npos) << r.output;
  // And the run still ends exactly where a straight run does.
  const std::string straight = make_temp_dir("straight-c");
  r = run_attnlab({"train", kTiny, "run_dir=" + straight});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_run(straight, dir);
}

}  // namespace
}  // namespace attnlab::testing
