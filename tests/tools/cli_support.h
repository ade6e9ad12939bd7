// Helpers for tests that run the `attnlab` binary: run a command and capture its output and
// exit code, make temporary directories, read files, compare checkpoints' weights.
#pragma once

#include <string>
#include <vector>

namespace attnlab::testing {

struct CommandResult {
  int exit_code = -1;   // 128 + signal if killed by one
  std::string output;   // stdout and stderr together
};

// Runs the attnlab binary with `args` (no shell), capturing its output.
CommandResult run_attnlab(const std::vector<std::string>& args);
// Starts the binary in the background with output to `log_file`; returns its pid.
int start_attnlab(const std::vector<std::string>& args, const std::string& log_file);
// Waits for `pid`; returns its exit code (128 + signal if killed).
int wait_for(int pid);

std::string make_temp_dir(const std::string& tag);
std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text);
std::vector<std::string> lines_of(const std::string& text);

// True when every tensor of both torch archives (e.g. two model.pt files) is bitwise equal;
// `why` says what differs otherwise.
bool archives_equal(const std::string& a, const std::string& b, std::string* why);

// Like archives_equal, but tensors may differ by at most `tol` (absolute) element-wise.
bool archives_close(const std::string& a, const std::string& b, double tol, std::string* why);

std::string source_path(const std::string& relative);  // inside the repository

}  // namespace attnlab::testing
