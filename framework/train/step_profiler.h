// Records the LibTorch ops (CPU side) of chosen training steps with LibTorch's profiler, for
// debug.profile_steps: start() before a step, stop() after it, as many times as there are steps to
// profile; write() then leaves the op table (framework/train/op_table.h) in a folder.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/train/op_table.h"

namespace attnlab::train {

class StepProfiler {
 public:
  StepProfiler() = default;
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;
  // Turns the profiler off if a step threw while it was on, so the thread is left unprofiled.
  ~StepProfiler();

  // Records the ops this thread runs from now on, and those of the threads it hands work to
  // (the autograd engine's, at::launch's). The profiler is thread-local: stop() on the same thread.
  void start();
  // Stops recording and adds the window's calls and wall time to the earlier windows'.
  void stop();

  bool recording() const { return recording_; }
  int64_t windows() const { return windows_; }
  double wall_us() const { return wall_us_; }
  // Every call recorded so far; times in microseconds from the first window's start.
  const std::vector<OpEvent>& events() const { return events_; }

  // Writes <dir>/ops.txt, ops.json and trace.json (each atomically), creating `dir`; the windows
  // count as optimizer steps, the first of them `first_step`. Returns the path of ops.txt.
  std::string write(const std::string& dir, int64_t first_step) const;

 private:
  bool recording_ = false;
  int64_t windows_ = 0;
  double wall_us_ = 0.0;
  std::chrono::steady_clock::time_point window_start_;
  bool have_origin_ = false;
  double origin_us_ = 0.0;  // the profiler clock at the first window's first event
  std::vector<OpEvent> events_;
};

}  // namespace attnlab::train
