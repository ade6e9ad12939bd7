// Process helpers for the command-line tests.
#include "tools/cli_support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace attnlab::testing {
namespace {

std::vector<char*> argv_of(const std::vector<std::string>& args, std::vector<std::string>& storage) {
  storage = {ATTNLAB_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

int start_attnlab(const std::vector<std::string>& args, const std::string& log_file) {
  std::vector<std::string> storage;
  auto argv = argv_of(args, storage);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_for(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

CommandResult run_attnlab(const std::vector<std::string>& args) {
  const std::string log = make_temp_dir("out") + "/output.txt";
  CommandResult r;
  r.exit_code = wait_for(start_attnlab(args, log));
  r.output = read_text(log);
  return r;
}

namespace {

// Every directory make_temp_dir created, removed when the test program ends (each CTest case is
// its own process), so runs with their checkpoints do not pile up in /tmp.
std::vector<std::string>& temp_dirs() {
  static std::vector<std::string> dirs;
  return dirs;
}

class RemoveTempDirs : public ::testing::Environment {
 public:
  void TearDown() override {
    std::error_code ec;
    for (const auto& d : temp_dirs()) std::filesystem::remove_all(d, ec);
  }
};

const auto* const kRemoveTempDirs = ::testing::AddGlobalTestEnvironment(new RemoveTempDirs);

}  // namespace

std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : "/tmp") + "/attnlab-" + tag + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  temp_dirs().push_back(tmpl);
  return tmpl;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

namespace {

// Module archives nest one archive per submodule; compare tensors at every level.
bool archive_level_equal(torch::serialize::InputArchive& a, torch::serialize::InputArchive& b,
                         const std::string& prefix, double tol, std::string* why) {
  const auto keys = a.keys();
  if (keys != b.keys()) {
    *why = prefix + ": different entries";
    return false;
  }
  for (const auto& k : keys) {
    torch::Tensor ta, tb;
    if (a.try_read(k, ta)) {
      const bool same = b.try_read(k, tb) && ta.sizes() == tb.sizes() &&
                        (tol == 0.0 ? torch::equal(ta, tb) : (ta - tb).abs().max().item<double>() <= tol);
      if (!same) {
        *why = prefix + k + " differs";
        return false;
      }
      continue;
    }
    torch::serialize::InputArchive sa, sb;
    if (!a.try_read(k, sa) || !b.try_read(k, sb)) {
      *why = prefix + k + ": unreadable";
      return false;
    }
    if (!archive_level_equal(sa, sb, prefix + k + ".", tol, why)) return false;
  }
  return true;
}

}  // namespace

bool archives_equal(const std::string& a, const std::string& b, std::string* why) {
  torch::serialize::InputArchive ia, ib;
  ia.load_from(a);
  ib.load_from(b);
  return archive_level_equal(ia, ib, "", 0.0, why);
}

bool archives_close(const std::string& a, const std::string& b, double tol, std::string* why) {
  torch::serialize::InputArchive ia, ib;
  ia.load_from(a);
  ib.load_from(b);
  return archive_level_equal(ia, ib, "", tol, why);
}

std::string source_path(const std::string& relative) { return std::string(ATTNLAB_SOURCE_DIR) + "/" + relative; }

}  // namespace attnlab::testing
