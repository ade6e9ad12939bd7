// Corrupt checkpoints are detected, reported with the file and the problem, and skipped in favour
// of the previous checkpoint, whose exact bytes are then returned.
#include <gtest/gtest.h>

#include <filesystem>

#include "framework/checkpoint/checkpoint_store.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "tests/framework/checkpoint/store_test_util.h"
#include "tests/support/temp_dir.h"

namespace attnlab::checkpoint {
namespace {

using attnlab::testing::checkpoint_files;
using attnlab::testing::checkpoint_meta;
using attnlab::testing::TempDir;
using attnlab::testing::Warnings;

struct Corruption {
  const char* name;
  std::function<void(const std::string& dir)> apply;
  const char* problem;  // what load() and the warning must say, after "checkpoint <dir>: "
};

// Names the case in gtest's output instead of dumping the struct's bytes.
void PrintTo(const Corruption& c, std::ostream* os) { *os << c.name; }

void overwrite(const std::string& path, const std::string& bytes) {
  io::write_file_synced(path, bytes);
}

std::string load_error(const std::string& dir) {
  try {
    CheckpointStore::load(dir);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(loaded without error)";
}

class CorruptCheckpoint : public ::testing::TestWithParam<Corruption> {};

TEST_P(CorruptCheckpoint, IsDetectedAndThePreviousCheckpointIsUsed) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), checkpoint_meta(100));
  store.write(200, checkpoint_files(200), checkpoint_meta(200));
  const std::string bad = store.path_of(200);
  GetParam().apply(bad);

  EXPECT_EQ(load_error(bad), "checkpoint " + bad + ": " + GetParam().problem);

  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->step, 100);
  EXPECT_EQ(loaded->path, store.path_of(100));
  EXPECT_EQ(loaded->files, checkpoint_files(100));
  EXPECT_EQ(loaded->meta, checkpoint_meta(100));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_EQ(warnings.messages[0], "checkpoint " + bad + " is corrupt (" + GetParam().problem +
                                      "); trying an earlier one");
}

const Corruption kCorruptions[] = {
    {"FlippedByte",
     [](const std::string& d) {
       std::string bytes = io::read_file(d + "/model.pt");
       bytes[1234] = static_cast<char>(bytes[1234] ^ 0x01);
       overwrite(d + "/model.pt", bytes);
     },
     "model.pt: checksum mismatch (file is corrupt)"},
    {"TruncatedFile",
     [](const std::string& d) { std::filesystem::resize_file(d + "/optim.pt", 1000); },
     "optim.pt: size mismatch (manifest says 1500 bytes, file has 1000; truncated or corrupt)"},
    {"GrownFile",
     [](const std::string& d) { overwrite(d + "/empty.bin", "x"); },
     "empty.bin: size mismatch (manifest says 0 bytes, file has 1; truncated or corrupt)"},
    {"DeletedFile",
     [](const std::string& d) { std::filesystem::remove(d + "/model.pt"); },
     "model.pt: missing"},
    {"DeletedManifest",
     [](const std::string& d) { std::filesystem::remove(d + "/manifest.json"); },
     "manifest.json: missing (the write did not complete)"},
    {"GarbageManifest",
     [](const std::string& d) { overwrite(d + "/manifest.json", "\x7f" "ELF garbage"); },
     "manifest.json: not valid JSON (parse error at byte 1; garbage or truncated)"},
    {"TruncatedManifest",
     [](const std::string& d) {
       std::filesystem::resize_file(d + "/manifest.json", 40);
     },
     "manifest.json: not valid JSON (parse error at byte 41; garbage or truncated)"},
    {"EmptyManifest",
     [](const std::string& d) { overwrite(d + "/manifest.json", ""); },
     "manifest.json: not valid JSON (parse error at byte 1; garbage or truncated)"},
    {"ForeignJson",
     [](const std::string& d) { overwrite(d + "/manifest.json", R"({"weights": "model.pt"})"); },
     "manifest.json: not an attnlab checkpoint manifest"},
    {"FutureVersion",
     [](const std::string& d) {
       auto m = nlohmann::json::parse(io::read_file(d + "/manifest.json"));
       m["version"] = 2;
       overwrite(d + "/manifest.json", m.dump());
     },
     "manifest.json: unsupported version 2 (this build reads version 1)"},
    {"PathEscapingManifest",
     [](const std::string& d) {
       auto m = nlohmann::json::parse(io::read_file(d + "/manifest.json"));
       m["files"]["../step_000000100/model.pt"] = m["files"]["model.pt"];
       overwrite(d + "/manifest.json", m.dump());
     },
     "manifest.json: malformed (invalid file name \"../step_000000100/model.pt\")"},
    {"MalformedEntry",
     [](const std::string& d) {
       auto m = nlohmann::json::parse(io::read_file(d + "/manifest.json"));
       m["files"]["model.pt"]["crc32c"] = "abc";
       overwrite(d + "/manifest.json", m.dump());
     },
     "manifest.json: malformed (entry for model.pt needs unsigned \"size\" and 32-bit \"crc32c\")"},
};

std::string corruption_name(const ::testing::TestParamInfo<Corruption>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Store, CorruptCheckpoint,
                         ::testing::ValuesIn(kCorruptions),
                         corruption_name);

TEST(CheckpointCorruption, AManifestOfAnotherStepIsNotTrusted) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), {});
  store.write(200, checkpoint_files(200), {});
  // A directory whose files all verify, but under another step's name.
  std::filesystem::remove_all(store.path_of(200));
  std::filesystem::copy(store.path_of(100), store.path_of(200));
  Warnings warnings;
  const auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->step, 100);
  EXPECT_EQ(loaded->path, store.path_of(100));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_EQ(warnings.messages[0],
            "checkpoint " + store.path_of(200) +
                " is corrupt (manifest.json: records step 100 but the directory is step 200); "
                "trying an earlier one");
}

TEST(CheckpointCorruption, SkipsSeveralAndReportsWhenNoneIsLeft) {
  TempDir dir;
  CheckpointStore store(dir.path());
  for (int64_t step : {100, 200, 300}) store.write(step, checkpoint_files(step), {});
  std::filesystem::remove(store.path_of(300) + "/optim.pt");
  std::filesystem::resize_file(store.path_of(200) + "/model.pt", 10);

  Warnings warnings;
  auto loaded = store.load_latest_valid(warnings.sink());
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->step, 100);
  ASSERT_EQ(warnings.messages.size(), 2u);
  EXPECT_NE(warnings.messages[0].find("step_000000300 is corrupt (optim.pt: missing)"),
            std::string::npos);
  EXPECT_NE(warnings.messages[1].find("step_000000200 is corrupt (model.pt: size mismatch"),
            std::string::npos);

  std::filesystem::remove(store.path_of(100) + "/manifest.json");
  warnings.messages.clear();
  EXPECT_FALSE(store.load_latest_valid(warnings.sink()).has_value());
  ASSERT_EQ(warnings.messages.size(), 3u);
  EXPECT_EQ(warnings.messages[2],
            "checkpoint " + store.path_of(100) +
                " is corrupt (manifest.json: missing (the write did not complete)); "
                "no earlier checkpoint to use");
}

TEST(CheckpointCorruption, AStepDirectoryWithoutManifestIsReportedNotListed) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(100, checkpoint_files(100), {});
  std::filesystem::create_directory(store.path_of(200));
  EXPECT_EQ(store.steps(), std::vector<int64_t>{100});
  Warnings warnings;
  EXPECT_EQ(store.load_latest_valid(warnings.sink())->step, 100);
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_NE(warnings.messages[0].find("step_000000200 is corrupt (manifest.json: missing"),
            std::string::npos);
}

TEST(CheckpointCorruption, NullWarnCallbackIsAllowed) {
  TempDir dir;
  CheckpointStore store(dir.path());
  store.write(1, checkpoint_files(1), {});
  store.write(2, checkpoint_files(2), {});
  std::filesystem::remove(store.path_of(2) + "/model.pt");
  EXPECT_EQ(store.load_latest_valid(nullptr)->step, 1);
}

}  // namespace
}  // namespace attnlab::checkpoint
