// The checkpoint store's normal operation: round trip, the manifest on disk, step listing,
// pruning, replacing a step, and the bookkeeping names it leaves (none, after success).
#include "framework/checkpoint/checkpoint_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "framework/errors.h"
#include "framework/io/files.h"
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

TEST(CheckpointStore, RoundTrip) {
  TempDir dir;
  CheckpointStore store(dir / "ckpt");  // created on first write
  const auto files = checkpoint_files(100);
  const std::string path = store.write(100, files, checkpoint_meta(100));
  EXPECT_EQ(path, dir / "ckpt/step_000000100");
  EXPECT_EQ(store.path_of(100), path);

  const LoadedCheckpoint loaded = CheckpointStore::load(path);
  EXPECT_EQ(loaded.step, 100);
  EXPECT_EQ(loaded.path, path);
  EXPECT_EQ(loaded.files, files);
  EXPECT_EQ(loaded.meta, checkpoint_meta(100));
  EXPECT_EQ(entries(path), (Names{"empty.bin", "manifest.json", "model.pt", "optim.pt"}));
  EXPECT_EQ(entries(store.root()), Names{"step_000000100"});
}

TEST(CheckpointStore, ManifestOnDisk) {
  TempDir dir;
  CheckpointStore store(dir.path());
  const std::map<std::string, std::string> files{{"a.bin", "123456789"}, {"b.bin", ""}};
  const std::string path = store.write(7, files, {{"epoch", 2}});
  const auto manifest = nlohmann::json::parse(io::read_file(path + "/manifest.json"));
  const nlohmann::json expected = {
      {"format", "attnlab-checkpoint"},
      {"version", 1},
      {"step", 7},
      {"files",
       {{"a.bin", {{"size", 9}, {"crc32c", 0xE3069283u}}}, {"b.bin", {{"size", 0}, {"crc32c", 0}}}}},
      {"meta", {{"epoch", 2}}}};
  EXPECT_EQ(manifest, expected);
}

TEST(CheckpointStore, StepsAreNewestFirstAndIgnoreOtherEntries) {
  TempDir dir;
  CheckpointStore store(dir.path());
  for (int64_t step : {5, 100, 20, 0}) store.write(step, checkpoint_files(step), {});
  namespace fs = std::filesystem;
  fs::create_directory(dir / "step_abc");
  fs::create_directory(dir / "step_7");                // not the canonical %09d name
  io::write_file_atomic(dir / "step_000000009", "x");  // a file, not a directory
  fs::create_directory(dir / "step_000000011");        // no manifest: not a checkpoint
  fs::create_directory(dir / "notes");
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{100, 20, 5, 0}));
}

TEST(CheckpointStore, LargeStepNumbersKeepTheirOrder) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(999999999, checkpoint_files(1), {});
  store.write(1234567890, checkpoint_files(2), {});  // ten digits: wider than the %09d field
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{1234567890, 999999999}));
  Warnings warnings;
  EXPECT_EQ(store.load_latest_valid(warnings.sink())->step, 1234567890);
}

TEST(CheckpointStore, EmptyOrMissingRoot) {
  TempDir dir;
  CheckpointStore store(dir / "never-written");
  EXPECT_TRUE(store.steps().empty());
  Warnings warnings;
  EXPECT_FALSE(store.load_latest_valid(warnings.sink()).has_value());
  EXPECT_TRUE(warnings.messages.empty());
  EXPECT_NO_THROW(store.remove_stale_temporaries());
}

TEST(CheckpointStore, LatestValidIsTheNewest) {
  TempDir dir;
  CheckpointStore store(dir.path());
  for (int64_t step : {100, 300, 200}) store.write(step, checkpoint_files(step), checkpoint_meta(step));
  Warnings warnings;
  const auto latest = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 300);
  EXPECT_EQ(latest->files, checkpoint_files(300));
  EXPECT_EQ(latest->meta, checkpoint_meta(300));
  EXPECT_TRUE(warnings.messages.empty());
}

TEST(CheckpointStore, PruneKeepsNewestAndListedSteps) {
  TempDir dir;
  CheckpointStore store(dir.path());
  for (int64_t step = 1; step <= 6; ++step) store.write(step * 100, checkpoint_files(step), {});
  store.prune(2, {300});  // e.g. the best checkpoint so far
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{600, 500, 300}));
  EXPECT_EQ(entries(dir.path()), (Names{"step_000000300", "step_000000500", "step_000000600"}));
  EXPECT_EQ(CheckpointStore::load(store.path_of(300)).files, checkpoint_files(3));

  store.prune(5, {});  // fewer checkpoints than keep_last: nothing to do
  EXPECT_EQ(store.steps().size(), 3u);
  store.prune(1, {});
  EXPECT_EQ(store.steps(), std::vector<int64_t>{600});
}

TEST(CheckpointStore, PruneAlsoDeletesAStaleCopyOfAPrunedStep) {
  TempDir dir;
  CheckpointStore store(dir.path());
  for (int64_t step : {100, 200, 300}) store.write(step, checkpoint_files(step), {});
  // What a crash right after renaming a replacement of step 100 into place leaves behind.
  std::filesystem::copy(store.path_of(100), dir / ".old-step_000000100-77");
  store.prune(2, {});
  EXPECT_EQ(entries(dir.path()), (Names{"step_000000200", "step_000000300"}));
  store.remove_stale_temporaries();  // nothing to resurrect
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{300, 200}));
}

TEST(CheckpointStore, PruneRefusesToKeepNothing) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(1, checkpoint_files(1), {});
  EXPECT_THROW(store.prune(0, {1}), std::invalid_argument);
  EXPECT_EQ(store.steps(), std::vector<int64_t>{1});
}

TEST(CheckpointStore, ReplacingAStepSwapsInTheNewContentsWhole) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100, 1), checkpoint_meta(100, 1));
  auto second = checkpoint_files(100, 2);
  second.erase("empty.bin");  // the replacement must not inherit files of the old one
  store.write(100, second, checkpoint_meta(100, 2));

  const auto loaded = CheckpointStore::load(store.path_of(100));
  EXPECT_EQ(loaded.files, second);
  EXPECT_EQ(loaded.meta, checkpoint_meta(100, 2));
  EXPECT_EQ(entries(store.path_of(100)), (Names{"manifest.json", "model.pt", "optim.pt"}));
  EXPECT_EQ(entries(dir.path()), Names{"step_000000100"});  // no .old-* or .tmp-* left
}

TEST(CheckpointStore, WriteRejectsUnsafeFileNamesBeforeTouchingTheDisk) {
  TempDir dir;
  CheckpointStore store(dir / "root");
  for (const std::string bad : {"", ".", "..", "../escape", "sub/file", "manifest.json"})
    EXPECT_THROW(store.write(1, {{bad, "x"}}, {}), std::invalid_argument) << bad;
  EXPECT_THROW(store.write(-1, {{"ok", "x"}}, {}), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir / "root"));
}

TEST(CheckpointStore, WriteRemovesAStaleTemporaryOfTheSameStep) {
  TempDir dir;
  CheckpointStore store(dir.path());
  // What a writer killed mid-way leaves (with any pid), including a manifest that must not count.
  std::filesystem::create_directory(dir / ".tmp-step_000000100-424242");
  io::write_file_atomic(dir / ".tmp-step_000000100-424242/manifest.json", "{}");
  io::write_file_atomic(dir / ".tmp-step_000000100-424242/model.pt", "half");
  store.write(100, checkpoint_files(100), {});
  EXPECT_EQ(entries(dir.path()), Names{"step_000000100"});
  EXPECT_EQ(CheckpointStore::load(store.path_of(100)).files, checkpoint_files(100));
}

TEST(CheckpointStore, RemoveStaleTemporariesLeavesCheckpointsAlone) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), {});
  store.write(200, checkpoint_files(200), {});
  namespace fs = std::filesystem;
  fs::create_directories(dir / ".tmp-step_000000300-1/sub");
  fs::create_directories(dir / ".tmp-discard-step_000000050-1");
  fs::create_directories(dir / ".old-step_000000200-1");  // step_200 exists: obsolete
  fs::create_directory(dir / "keep-me");
  store.remove_stale_temporaries();
  EXPECT_EQ(entries(dir.path()), (Names{"keep-me", "step_000000100", "step_000000200"}));
  EXPECT_EQ(CheckpointStore::load(store.path_of(200)).files, checkpoint_files(200));
}

TEST(CheckpointStore, LoadOfAnyDirectoryNamesTheProblem) {
  TempDir dir;
  try {
    CheckpointStore::load(dir / "nothing");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "checkpoint " + dir / "nothing" +
                                         ": manifest.json: missing (the write did not complete)");
  }
}

TEST(CheckpointStore, TrailingSlashInRootIsIgnored) {
  TempDir dir;
  CheckpointStore store(dir.path() + "//");
  EXPECT_EQ(store.root(), dir.path());
  EXPECT_EQ(store.write(3, checkpoint_files(3), {}), dir / "step_000000003");
  EXPECT_THROW(CheckpointStore(""), std::invalid_argument);
}

}  // namespace
}  // namespace attnlab::checkpoint
