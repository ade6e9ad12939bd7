// Durable file I/O: round trips, atomic replacement, and that every failure names the path with
// the errno text and leaves no temporary file behind.
#include "framework/io/files.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <set>
#include <string>

#include "framework/errors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/user_error.h"

namespace attnlab::io {
namespace {

using attnlab::testing::TempDir;

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename());
  return names;
}

const auto& message_of = attnlab::testing::user_error_of;

TEST(Files, AtomicWriteRoundTripsBinaryBytes) {
  TempDir dir;
  const std::string bytes("a\0b\xff\n", 5);
  write_file_atomic(dir / "x.bin", bytes);
  EXPECT_EQ(read_file(dir / "x.bin"), bytes);
  EXPECT_EQ(entries(dir.path()), std::set<std::string>{"x.bin"});
}

TEST(Files, AtomicWriteOfEmptyAndLargeFiles) {
  TempDir dir;
  write_file_atomic(dir / "empty", "");
  EXPECT_EQ(read_file(dir / "empty"), "");
  std::string large(3 * 65536 + 17, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 131 % 251);
  write_file_atomic(dir / "large", large);
  EXPECT_EQ(read_file(dir / "large"), large);
}

TEST(Files, AtomicWriteReplacesExistingFileAndLeavesNoTemporary) {
  TempDir dir;
  write_file_atomic(dir / "f", "first version, longer");
  write_file_atomic(dir / "f", "second");
  EXPECT_EQ(read_file(dir / "f"), "second");
  EXPECT_EQ(entries(dir.path()), std::set<std::string>{"f"});
}

TEST(Files, ReadsFilesThatReportNoSize) {
  // /proc files stat as 0 bytes; reading must go on to EOF anyway.
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(read_file("/proc/self/cmdline"), expected);
}

TEST(Files, ReadMissingFileNamesPathAndReason) {
  TempDir dir;
  EXPECT_EQ(message_of([&] { read_file(dir / "nope"); }),
            dir / "nope" + ": cannot read: No such file or directory");
}

TEST(Files, ReadDirectoryIsAnError) {
  TempDir dir;
  EXPECT_EQ(message_of([&] { read_file(dir.path()); }),
            dir.path() + ": cannot read: Is a directory");
}

TEST(Files, AtomicWriteIntoMissingDirectoryNamesPath) {
  TempDir dir;
  const std::string path = dir / "missing/f";
  EXPECT_EQ(message_of([&] { write_file_atomic(path, "x"); }),
            path + ": cannot create: No such file or directory");
  EXPECT_TRUE(entries(dir.path()).empty());
}

TEST(Files, FailedRenameRemovesTheTemporary) {
  TempDir dir;
  // A non-empty directory under the target name makes the final rename fail after the
  // temporary has been fully written and synced.
  std::filesystem::create_directories(dir / "target/child");
  const std::string message = message_of([&] { write_file_atomic(dir / "target", "bytes"); });
  EXPECT_NE(message.find(dir / "target" + ": cannot rename"), std::string::npos) << message;
  EXPECT_NE(message.find("Is a directory"), std::string::npos) << message;
  EXPECT_EQ(entries(dir.path()), std::set<std::string>{"target"});
}

TEST(Files, WriteFailingMidwayRemovesTheTemporaryAndKeepsTheOldFile) {
  TempDir dir;
  write_file_atomic(dir / "f", "old contents");
  // A real short write: in a child, cap the file size so write() fails with EFBIG partway.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1000, 1000};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file_atomic(dir / "f", std::string(5000, 'n'));
    } catch (const UserError& e) {
      const std::string m = e.what();
      _exit(m.find(dir / "f" + ": cannot write: File too large") == 0 ? 0 : 2);
    }
    _exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: wrong message";
  EXPECT_EQ(read_file(dir / "f"), "old contents");
  EXPECT_EQ(entries(dir.path()), std::set<std::string>{"f"});
}

TEST(Files, SyncedWriteCreatesAndTruncates) {
  TempDir dir;
  write_file_synced(dir / "s", "long contents here");
  write_file_synced(dir / "s", "short");
  EXPECT_EQ(read_file(dir / "s"), "short");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "s").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u & ~[] {
    const mode_t m = ::umask(0);
    ::umask(m);
    return m;
  }());
}

TEST(Files, SyncedWriteNamesPathOnFailure) {
  TempDir dir;
  const std::string path = dir / "no/such/dir/f";
  EXPECT_EQ(message_of([&] { write_file_synced(path, "x"); }),
            path + ": cannot create: No such file or directory");
}

TEST(Files, FsyncDirOfExistingAndMissingDirectory) {
  TempDir dir;
  EXPECT_NO_THROW(fsync_dir(dir.path()));
  const std::string missing = dir / "gone";
  EXPECT_EQ(message_of([&] { fsync_dir(missing); }),
            missing + ": cannot open directory to fsync: No such file or directory");
}

}  // namespace
}  // namespace attnlab::io
