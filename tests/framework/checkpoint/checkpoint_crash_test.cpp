// Real crashes: a forked child writes a checkpoint and dies at a chosen stage of write(), by
// _exit(9) (no destructors, no cleanup) or by SIGKILL. The parent, a different process as after
// a restart, must then load the previous checkpoint with its exact bytes (or the new one, once it
// was renamed into place), and remove_stale_temporaries must leave only committed checkpoints.
// This covers process death; power loss is what the fsyncs are for and is not simulated here.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <tuple>

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

enum class Death { Exit9, SigKill };

void PrintTo(Death d, std::ostream* os) { *os << (d == Death::Exit9 ? "_exit(9)" : "SIGKILL"); }

// Forks a child that writes (step, version) into `root` and dies at `stage`; returns its pid
// after checking that it died the intended way (and not, say, by finishing the write).
pid_t crash_while_writing(const std::string& root, int64_t step, int version,
                          const std::string& stage, Death death) {
  const pid_t child = ::fork();
  if (child == 0) {
    // Only the child's copy of the hook is set; the parent never sees it.
    CheckpointStore::set_fault_hook([&](const std::string& s) {
      if (s != stage) return;
      if (death == Death::Exit9) _exit(9);
      std::raise(SIGKILL);
    });
    try {
      CheckpointStore(root).write(step, checkpoint_files(step, version), checkpoint_meta(step, version));
    } catch (...) {
      _exit(3);
    }
    _exit(4);  // the stage was never reached
  }
  EXPECT_GT(child, 0) << "fork failed";
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  if (death == Death::Exit9) {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9) << "status " << status;
  } else {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }
  return child;
}

using CrashParam = std::tuple<std::string, Death>;

std::string crash_name(const ::testing::TestParamInfo<CrashParam>& info) {
  return testing::stage_identifier(std::get<0>(info.param)) +
         (std::get<1>(info.param) == Death::Exit9 ? "_exit9" : "_sigkill");
}

class CrashDuringNewStep : public ::testing::TestWithParam<CrashParam> {};
class CrashDuringReplacement : public ::testing::TestWithParam<CrashParam> {};

TEST_P(CrashDuringNewStep, LeavesThePreviousCheckpointLoadable) {
  const auto& [stage, death] = GetParam();
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), checkpoint_meta(100));
  const pid_t child = crash_while_writing(dir.path(), 200, 1, stage, death);
  const bool committed = stage == "renamed";

  // The crash really happened mid-write: the child's temporary is still there.
  const std::string tmp = ".tmp-step_000000200-" + std::to_string(child);
  EXPECT_EQ(entries(dir.path()), (committed ? Names{"step_000000100", "step_000000200"}
                                            : Names{tmp, "step_000000100"}));

  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(warnings.messages.empty()) << warnings.messages.front();
  EXPECT_EQ(loaded->step, committed ? 200 : 100);
  EXPECT_EQ(loaded->files, checkpoint_files(committed ? 200 : 100));
  EXPECT_EQ(loaded->meta, checkpoint_meta(committed ? 200 : 100));

  store.remove_stale_temporaries();
  EXPECT_EQ(entries(dir.path()), (committed ? Names{"step_000000100", "step_000000200"}
                                            : Names{"step_000000100"}));
  // The restarted run writes the step again, over whatever the crash left.
  store.write(200, checkpoint_files(200, 3), checkpoint_meta(200, 3));
  EXPECT_EQ(store.load_latest_valid(warnings.sink())->files, checkpoint_files(200, 3));
  EXPECT_EQ(entries(dir.path()), (Names{"step_000000100", "step_000000200"}));
}

TEST_P(CrashDuringReplacement, NeverLosesTheOnlyCheckpoint) {
  const auto& [stage, death] = GetParam();
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100, 1), checkpoint_meta(100, 1));
  const pid_t child = crash_while_writing(dir.path(), 100, 2, stage, death);
  const int version = stage == "renamed" ? 2 : 1;

  // Between the two renames step_000000100 itself is absent: the old checkpoint exists only
  // under its .old-* name, and must still be found.
  if (stage == "moved_aside") {
    const std::string pid = std::to_string(child);
    EXPECT_EQ(entries(dir.path()),
              (Names{".old-step_000000100-" + pid, ".tmp-step_000000100-" + pid}));
  }

  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_TRUE(warnings.messages.empty()) << warnings.messages.front();
  EXPECT_EQ(loaded->step, 100);
  EXPECT_EQ(loaded->files, checkpoint_files(100, version));
  EXPECT_EQ(loaded->meta, checkpoint_meta(100, version));

  store.remove_stale_temporaries();
  EXPECT_EQ(entries(dir.path()), Names{"step_000000100"});
  EXPECT_EQ(store.steps(), std::vector<int64_t>{100});
  const auto after_cleanup = CheckpointStore::load(store.path_of(100));
  EXPECT_EQ(after_cleanup.files, checkpoint_files(100, version));
  EXPECT_EQ(after_cleanup.meta, checkpoint_meta(100, version));
}

INSTANTIATE_TEST_SUITE_P(AtEachStage, CrashDuringNewStep,
                         ::testing::Combine(::testing::ValuesIn(testing::new_step_stages()),
                                            ::testing::Values(Death::Exit9, Death::SigKill)),
                         crash_name);
INSTANTIATE_TEST_SUITE_P(AtEachStage, CrashDuringReplacement,
                         ::testing::Combine(::testing::ValuesIn(testing::replace_stages()),
                                            ::testing::Values(Death::Exit9, Death::SigKill)),
                         crash_name);

TEST(CheckpointCrash, OrphanIsRestoredEvenWhenOtherStepsExist) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), checkpoint_meta(100));
  store.write(200, checkpoint_files(200, 1), checkpoint_meta(200, 1));
  crash_while_writing(dir.path(), 200, 2, "moved_aside", Death::SigKill);
  EXPECT_EQ(store.steps(), std::vector<int64_t>{100});  // step_000000200 is moved aside

  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->step, 200);  // not 100: the replaced checkpoint is still the newest
  EXPECT_EQ(loaded->files, checkpoint_files(200, 1));
  store.remove_stale_temporaries();
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{200, 100}));
  EXPECT_EQ(CheckpointStore::load(store.path_of(200)).files, checkpoint_files(200, 1));
}

}  // namespace
}  // namespace attnlab::checkpoint
