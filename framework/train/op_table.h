// The op table of a profiled stretch of training (debug.profile_steps): timed op events in, one row
// per op name out, with self time (the op's own time, without the ops it called) and total time.
// Pure and torch-free, so the aggregation is tested on hand-made events; framework/train/
// step_profiler.h feeds it LibTorch's profiler events.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnlab::train {

// One op call: [start_us, end_us) on `thread`. Calls on one thread nest (an op that calls another
// encloses it); calls on different threads are unrelated.
struct OpEvent {
  uint64_t thread = 0;
  std::string name;
  double start_us = 0.0;
  double end_us = 0.0;
};

struct OpRow {
  std::string name;
  int64_t calls = 0;
  double self_us = 0.0;   // total minus the time of the direct children on the same thread
  double total_us = 0.0;  // start to end, children included
};

// Rows by name, sorted by self time descending (ties: by name). A call's parent is the innermost
// call on its thread that encloses it; a call that overruns its parent (improper nesting) counts
// in the parent's children only up to the parent's end.
std::vector<OpRow> aggregate_ops(std::vector<OpEvent> events);

// What was profiled, for the table's header.
struct ProfileSpan {
  int64_t steps = 0;       // optimizer steps profiled
  int64_t first_step = 0;  // the first of them, 1-based as in the logs
  double wall_us = 0.0;    // wall time of the profiled steps, summed
};

// The table as text: a header line (steps, wall time per step), column titles, one line per row
// (calls, self ms, total ms, self % of the profiled wall time, name), and the summed self time.
std::string format_op_table(const std::vector<OpRow>& rows, const ProfileSpan& span);
// The same rows as {"steps", "first_step", "wall_ms", "wall_ms_per_step", "ops": [{"name",
// "calls", "self_ms", "total_ms", "self_pct"}]}.
nlohmann::json op_table_json(const std::vector<OpRow>& rows, const ProfileSpan& span);
// A Chrome trace (chrome://tracing, Perfetto) of the events, as JSON text: one complete event
// ("ph": "X") per call, times relative to the earliest event.
std::string chrome_trace(const std::vector<OpEvent>& events);

}  // namespace attnlab::train
