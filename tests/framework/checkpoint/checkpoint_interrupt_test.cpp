// A write() that fails at any stage (the fault hook throws) leaves the previous checkpoint in
// place and loadable, byte for byte, and cleans up after itself; a failure after the rename leaves
// the new checkpoint committed. Real crashes (the process dies) are in checkpoint_crash_test.cpp.
#include <gtest/gtest.h>

#include <stdexcept>

#include "framework/checkpoint/checkpoint_store.h"
#include "tests/framework/checkpoint/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace attnlab::checkpoint {
namespace {

using attnlab::testing::checkpoint_files;
using attnlab::testing::checkpoint_meta;
using attnlab::testing::entries;
using attnlab::testing::TempDir;
using attnlab::testing::Warnings;
using Names = std::set<std::string>;

struct SimulatedFailure : std::runtime_error {
  SimulatedFailure() : std::runtime_error("simulated failure") {}
};

// Installs a hook for one test and always removes it, so a failing test cannot leak it.
class WithFaultHook : public ::testing::Test {
 protected:
  void TearDown() override { CheckpointStore::set_fault_hook(nullptr); }
  static void fail_at(const std::string& stage) {
    CheckpointStore::set_fault_hook([stage](const std::string& s) {
      if (s == stage) throw SimulatedFailure();
    });
  }
};

TEST_F(WithFaultHook, StagesAreReportedInOrder) {
  TempDir dir;
  CheckpointStore store(dir.path());
  std::vector<std::string> seen;
  CheckpointStore::set_fault_hook([&](const std::string& s) { seen.push_back(s); });
  store.write(100, checkpoint_files(100), {});
  EXPECT_EQ(seen, testing::new_step_stages());
  seen.clear();
  store.write(100, checkpoint_files(100, 2), {});
  EXPECT_EQ(seen, testing::replace_stages());
}

class FailingNewStep : public WithFaultHook, public ::testing::WithParamInterface<std::string> {};
class FailingReplacement : public WithFaultHook,
                           public ::testing::WithParamInterface<std::string> {};

TEST_P(FailingNewStep, KeepsThePreviousCheckpoint) {
  const std::string stage = GetParam();
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), checkpoint_meta(100));
  fail_at(stage);
  EXPECT_THROW(store.write(200, checkpoint_files(200), checkpoint_meta(200)), SimulatedFailure);
  CheckpointStore::set_fault_hook(nullptr);

  const bool committed = stage == "renamed";
  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(warnings.messages.empty());
  EXPECT_EQ(loaded->step, committed ? 200 : 100);
  EXPECT_EQ(loaded->files, checkpoint_files(committed ? 200 : 100));
  EXPECT_EQ(loaded->meta, checkpoint_meta(committed ? 200 : 100));
  EXPECT_EQ(store.steps(), (committed ? std::vector<int64_t>{200, 100} : std::vector<int64_t>{100}));
  // The failed write removed its temporary itself.
  EXPECT_EQ(entries(dir.path()), (committed ? Names{"step_000000100", "step_000000200"}
                                            : Names{"step_000000100"}));
}

TEST_P(FailingReplacement, KeepsTheOldContents) {
  const std::string stage = GetParam();
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100, 1), checkpoint_meta(100, 1));  // the only checkpoint
  fail_at(stage);
  EXPECT_THROW(store.write(100, checkpoint_files(100, 2), checkpoint_meta(100, 2)),
               SimulatedFailure);
  CheckpointStore::set_fault_hook(nullptr);

  const int version = stage == "renamed" ? 2 : 1;
  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(warnings.messages.empty());
  EXPECT_EQ(loaded->step, 100);
  EXPECT_EQ(loaded->path, store.path_of(100));
  EXPECT_EQ(loaded->files, checkpoint_files(100, version));
  EXPECT_EQ(loaded->meta, checkpoint_meta(100, version));
  EXPECT_EQ(entries(dir.path()), Names{"step_000000100"});
}

std::string stage_name(const ::testing::TestParamInfo<std::string>& info) {
  return testing::stage_identifier(info.param);
}

INSTANTIATE_TEST_SUITE_P(AtEachStage, FailingNewStep,
                         ::testing::ValuesIn(testing::new_step_stages()), stage_name);
INSTANTIATE_TEST_SUITE_P(AtEachStage, FailingReplacement,
                         ::testing::ValuesIn(testing::replace_stages()), stage_name);

}  // namespace
}  // namespace attnlab::checkpoint
