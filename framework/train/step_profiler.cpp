// The legacy (autograd) profiler rather than Kineto: it is in every LibTorch build, Debian's 1.13
// (built without Kineto) included, and its C++ API is the same in 1.13 and 2.x. It records each
// op as a push and a pop event carrying the same handle; this file pairs them into OpEvents.
#include "framework/train/step_profiler.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/version.h>

#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "framework/errors.h"
#include "framework/io/files.h"

#if TORCH_VERSION_MAJOR < 1 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR < 13)
#error "StepProfiler needs LibTorch 1.13 or later (ProfilerConfig in torch::profiler::impl)"
#endif

namespace attnlab::train {
namespace {

namespace legacy = torch::autograd::profiler;

// The calls in `lists` (one list per thread), microseconds relative to `origin`. Pushes are
// collected first because an op's pop can sit in another thread's list than its push.
std::vector<OpEvent> pair_events(const legacy::thread_event_lists& lists,
                                 const legacy::LegacyEvent& origin, double offset_us) {
  std::unordered_map<uint64_t, const legacy::LegacyEvent*> pushes;
  for (const auto& list : lists)
    for (const auto& e : list)
      if (e.kind() == legacy::EventKind::PushRange) pushes.emplace(e.handle(), &e);
  std::vector<OpEvent> out;
  out.reserve(pushes.size());
  for (const auto& list : lists) {
    for (const auto& e : list) {
      if (e.kind() != legacy::EventKind::PopRange) continue;
      const auto it = pushes.find(e.handle());
      if (it == pushes.end()) continue;  // pushed before start(): not this window's
      const legacy::LegacyEvent& push = *it->second;
      out.push_back({push.threadId(), push.name(), offset_us + origin.cpuElapsedUs(push),
                     offset_us + origin.cpuElapsedUs(e)});
      pushes.erase(it);
    }
  }
  return out;
}

const legacy::LegacyEvent* first_event(const legacy::thread_event_lists& lists) {
  for (const auto& list : lists)
    if (!list.empty()) return &list.front();
  return nullptr;
}

}  // namespace

StepProfiler::~StepProfiler() {
  if (!recording_) return;
  try {
    legacy::disableProfilerLegacy();
  } catch (...) {  // a destructor during unwinding must not throw; the events are dropped
  }
}

void StepProfiler::start() {
  TORCH_INTERNAL_ASSERT(!recording_, "StepProfiler::start() while recording");
  legacy::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  recording_ = true;
  window_start_ = std::chrono::steady_clock::now();
}

void StepProfiler::stop() {
  TORCH_INTERNAL_ASSERT(recording_, "StepProfiler::stop() without start()");
  const auto end = std::chrono::steady_clock::now();
  const legacy::thread_event_lists lists = legacy::disableProfilerLegacy();
  recording_ = false;
  wall_us_ += std::chrono::duration<double, std::micro>(end - window_start_).count();
  ++windows_;
  const legacy::LegacyEvent* origin = first_event(lists);
  if (!origin) return;
  // Within a window, times are exact integer-nanosecond differences from its first event; the
  // windows are placed relative to each other by that event's absolute time.
  if (!have_origin_) origin_us_ = origin->cpuUs(), have_origin_ = true;
  auto window = pair_events(lists, *origin, origin->cpuUs() - origin_us_);
  events_.insert(events_.end(), std::make_move_iterator(window.begin()),
                 std::make_move_iterator(window.end()));
}

std::string StepProfiler::write(const std::string& dir, int64_t first_step) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError(dir + ": cannot create the profile directory: " + ec.message());
  const ProfileSpan span{windows_, first_step, wall_us_};
  const std::vector<OpRow> rows = aggregate_ops(events_);
  const std::string table = dir + "/ops.txt";
  io::write_file_atomic(table, format_op_table(rows, span));
  io::write_file_atomic(dir + "/ops.json", op_table_json(rows, span).dump(1) + "\n");
  io::write_file_atomic(dir + "/trace.json", chrome_trace(events_));
  return table;
}

}  // namespace attnlab::train
