#include "framework/train/op_table.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>

namespace attnlab::train {
namespace {

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

double percent(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

}  // namespace

std::vector<OpRow> aggregate_ops(std::vector<OpEvent> events) {
  // Per thread, by start; an enclosing call sorts before the calls it encloses (the longer first
  // when two start together), and the stable sort keeps the profiler's push order for exact ties.
  std::stable_sort(events.begin(), events.end(), [](const OpEvent& a, const OpEvent& b) {
    if (a.thread != b.thread) return a.thread < b.thread;
    if (a.start_us != b.start_us) return a.start_us < b.start_us;
    return a.end_us > b.end_us;
  });
  std::vector<double> children_us(events.size(), 0.0);
  std::vector<double> clipped_end(events.size(), 0.0);
  std::vector<size_t> open;  // the calls that enclose the current one, innermost last
  for (size_t i = 0; i < events.size(); ++i) {
    const OpEvent& e = events[i];
    if (i > 0 && events[i - 1].thread != e.thread) open.clear();
    while (!open.empty() && clipped_end[open.back()] <= e.start_us) open.pop_back();
    clipped_end[i] = e.end_us;
    if (!open.empty()) {
      const size_t parent = open.back();
      clipped_end[i] = std::min(e.end_us, clipped_end[parent]);
      children_us[parent] += std::max(0.0, clipped_end[i] - e.start_us);
    }
    open.push_back(i);
  }

  std::map<std::string, OpRow> by_name;
  for (size_t i = 0; i < events.size(); ++i) {
    const double total = std::max(0.0, events[i].end_us - events[i].start_us);
    OpRow& row = by_name[events[i].name];
    row.name = events[i].name;
    ++row.calls;
    row.total_us += total;
    row.self_us += std::max(0.0, total - children_us[i]);
  }
  std::vector<OpRow> rows;
  rows.reserve(by_name.size());
  for (auto& [name, row] : by_name) rows.push_back(std::move(row));
  std::stable_sort(rows.begin(), rows.end(),
                   [](const OpRow& a, const OpRow& b) { return a.self_us > b.self_us; });
  return rows;
}

std::string format_op_table(const std::vector<OpRow>& rows, const ProfileSpan& span) {
  const double per_step_ms = span.steps > 0 ? span.wall_us / 1000.0 / span.steps : 0.0;
  std::string out = "# " + std::to_string(span.steps) + " optimizer step" +
                    (span.steps == 1 ? "" : "s") + " profiled (from step " +
                    std::to_string(span.first_step) + "), " + fixed(per_step_ms, 3) +
                    " ms wall per step; LibTorch profiler, CPU ops, by self time\n";
  // The name last, so that long names (autograd nodes of custom functions) never push the numbers
  // out of their columns.
  out += pad_left("calls", 9) + pad_left("self ms", 12) + pad_left("total ms", 12) +
         pad_left("self %", 9) + "  name\n";
  double self_sum = 0.0;
  for (const auto& r : rows) {
    self_sum += r.self_us;
    out += pad_left(std::to_string(r.calls), 9) + pad_left(fixed(r.self_us / 1000.0, 3), 12) +
           pad_left(fixed(r.total_us / 1000.0, 3), 12) +
           pad_left(fixed(percent(r.self_us, span.wall_us), 2), 9) + "  " + r.name + "\n";
  }
  // What the ops do not cover (the trainer's own C++ between ops) is the remainder of this line.
  out += "# self time of all ops: " + fixed(self_sum / 1000.0, 3) + " ms of " +
         fixed(span.wall_us / 1000.0, 3) + " ms wall (" +
         fixed(percent(self_sum, span.wall_us), 1) + "%)\n";
  return out;
}

nlohmann::json op_table_json(const std::vector<OpRow>& rows, const ProfileSpan& span) {
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& r : rows) {
    ops.push_back({{"name", r.name},
                   {"calls", r.calls},
                   {"self_ms", r.self_us / 1000.0},
                   {"total_ms", r.total_us / 1000.0},
                   {"self_pct", percent(r.self_us, span.wall_us)}});
  }
  return {{"steps", span.steps},
          {"first_step", span.first_step},
          {"wall_ms", span.wall_us / 1000.0},
          {"wall_ms_per_step", span.steps > 0 ? span.wall_us / 1000.0 / span.steps : 0.0},
          {"ops", ops}};
}

std::string chrome_trace(const std::vector<OpEvent>& events) {
  double origin = 0.0;
  if (!events.empty()) {
    origin = std::min_element(events.begin(), events.end(), [](const OpEvent& a, const OpEvent& b) {
               return a.start_us < b.start_us;
             })->start_us;
  }
  // Printed directly rather than built as a json value: a profile of many steps has millions of
  // calls, and a json object per call would take many times the file's size in memory.
  std::unordered_map<std::string, std::string> quoted;  // each name escaped once
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  char buf[160];
  for (size_t i = 0; i < events.size(); ++i) {
    const OpEvent& e = events[i];
    auto it = quoted.find(e.name);
    if (it == quoted.end()) it = quoted.emplace(e.name, nlohmann::json(e.name).dump()).first;
    std::snprintf(buf, sizeof(buf),
                  "%s{\"ph\":\"X\",\"pid\":0,\"tid\":%llu,\"ts\":%.3f,\"dur\":%.3f,\"name\":",
                  i ? ",\n" : "\n", static_cast<unsigned long long>(e.thread), e.start_us - origin,
                  std::max(0.0, e.end_us - e.start_us));
    out += buf;
    out += it->second;
    out += '}';
  }
  out += "\n]}\n";
  return out;
}

}  // namespace attnlab::train
