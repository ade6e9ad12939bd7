// Run tracking (issue 8): RUN_DIR/run_info.json says what produced the run. One record per
// invocation of `attnlab train` (a resumed run has several), each with the git commit the binary
// was built from, the LibTorch version, the machine (host, CPU model, cores, memory, GPUs), the
// device and thread count, the start and end times, the wall time and the peak resident memory.
// Written atomically by rank 0 when training starts and again when it ends, so a killed run still
// records what ran and when it started.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::run {

// This machine and build: {"git_commit", "git_dirty", "libtorch", "hostname", "cpu_model",
// "cores", "memory_gb", "cuda_devices"}.
nlohmann::json machine_and_build();
// The process's peak resident memory so far (getrusage's ru_maxrss), MiB.
double peak_resident_mib();

class RunInfo {
 public:
  // Appends this invocation's record to RUN_DIR/run_info.json (keeping earlier invocations'
  // records; a damaged file is replaced) and writes it.
  RunInfo(std::string run_dir, const nlohmann::json& extra);
  // Completes this invocation's record: status, steps reached, wall time, peak memory; writes it.
  void finish(const std::string& status, int64_t step);
  const nlohmann::json& json() const { return info_; }

 private:
  void write() const;

  std::string path_;
  nlohmann::json info_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace attnlab::run
