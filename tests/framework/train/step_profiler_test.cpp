// debug.profile_steps' op table: the aggregation of nested op calls into self and total time
// (hand-made events, exact), and LibTorch's profiler seen through StepProfiler (call counts and
// names only: no assertion depends on how fast this machine is).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "framework/io/files.h"
#include "framework/train/op_table.h"
#include "framework/train/step_profiler.h"
#include "tests/support/temp_dir.h"

namespace attnlab::train {
namespace {

const OpRow* find_row(const std::vector<OpRow>& rows, const std::string& name) {
  const auto it =
      std::find_if(rows.begin(), rows.end(), [&](const OpRow& r) { return r.name == name; });
  return it == rows.end() ? nullptr : &*it;
}

TEST(OpTable, SelfTimeExcludesDirectChildrenOnTheSameThread) {
  // Thread 1: A [0, 100) calls B [10, 40) (which calls C [15, 25)) and B [50, 70).
  // Thread 2: B [5, 95) overlaps A in time but is no child of it. Given out of order.
  const std::vector<OpEvent> events = {
      {1, "B", 50, 70}, {2, "B", 5, 95}, {1, "C", 15, 25}, {1, "A", 0, 100}, {1, "B", 10, 40},
  };
  const auto rows = aggregate_ops(events);
  ASSERT_EQ(rows.size(), 3u);
  // Sorted by self time: B 20 + 20 + 90, A 100 - 30 - 20, C 10.
  EXPECT_EQ(rows[0].name, "B");
  EXPECT_EQ(rows[0].calls, 3);
  EXPECT_DOUBLE_EQ(rows[0].self_us, 130.0);
  EXPECT_DOUBLE_EQ(rows[0].total_us, 140.0);
  EXPECT_EQ(rows[1].name, "A");
  EXPECT_EQ(rows[1].calls, 1);
  EXPECT_DOUBLE_EQ(rows[1].self_us, 50.0);
  EXPECT_DOUBLE_EQ(rows[1].total_us, 100.0);
  EXPECT_EQ(rows[2].name, "C");
  EXPECT_DOUBLE_EQ(rows[2].self_us, 10.0);
  EXPECT_DOUBLE_EQ(rows[2].total_us, 10.0);
}

TEST(OpTable, SharedStartsAdjacentCallsAndOverruns) {
  // P [0, 10) and its first child Q [0, 4) start together; R [4, 10) begins as Q ends, so it is
  // Q's sibling; S [8, 15) overruns R and counts only up to R's end in R's children.
  const std::vector<OpEvent> events = {
      {7, "P", 0, 10}, {7, "Q", 0, 4}, {7, "R", 4, 10}, {7, "S", 8, 15}};
  const auto rows = aggregate_ops(events);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_DOUBLE_EQ(find_row(rows, "P")->self_us, 0.0);
  EXPECT_DOUBLE_EQ(find_row(rows, "Q")->self_us, 4.0);
  EXPECT_DOUBLE_EQ(find_row(rows, "R")->self_us, 4.0);
  EXPECT_DOUBLE_EQ(find_row(rows, "S")->self_us, 7.0);
  EXPECT_DOUBLE_EQ(find_row(rows, "S")->total_us, 7.0);
  // Equal self times (Q and R) keep name order.
  EXPECT_EQ(rows[0].name, "S");
  EXPECT_EQ(rows[1].name, "Q");
  EXPECT_EQ(rows[2].name, "R");
  EXPECT_EQ(rows[3].name, "P");
}

TEST(OpTable, TextAndJsonCarryTheSameRows) {
  const std::vector<OpRow> rows = {{"aten::mm", 4, 3000.0, 3500.0},
                                   {"aten::add", 2, 1000.0, 1000.0}};
  const ProfileSpan span{2, 6, 10000.0};  // 2 steps in 10 ms
  const std::string text = format_op_table(rows, span);
  EXPECT_NE(text.find("# 2 optimizer steps profiled (from step 6), 5.000 ms wall per step"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("name"), std::string::npos);
  EXPECT_NE(text.find("self %"), std::string::npos);
  // aten::mm: 4 calls, 3 ms self, 3.5 ms total, 30% of the wall time; listed before aten::add.
  EXPECT_NE(text.find("\n        4       3.000       3.500    30.00  aten::mm\n"),
            std::string::npos)
      << text;
  EXPECT_LT(text.find("aten::mm"), text.find("aten::add"));
  EXPECT_NE(text.find("# self time of all ops: 4.000 ms of 10.000 ms wall (40.0%)"),
            std::string::npos)
      << text;

  const auto j = op_table_json(rows, span);
  EXPECT_EQ(j.at("steps"), 2);
  EXPECT_EQ(j.at("first_step"), 6);
  EXPECT_DOUBLE_EQ(j.at("wall_ms_per_step").get<double>(), 5.0);
  ASSERT_EQ(j.at("ops").size(), 2u);
  EXPECT_EQ(j.at("ops")[0].at("name"), "aten::mm");
  EXPECT_EQ(j.at("ops")[0].at("calls"), 4);
  EXPECT_DOUBLE_EQ(j.at("ops")[0].at("self_ms").get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j.at("ops")[0].at("total_ms").get<double>(), 3.5);
  EXPECT_DOUBLE_EQ(j.at("ops")[0].at("self_pct").get<double>(), 30.0);
}

TEST(OpTable, ChromeTraceHasOneCompleteEventPerCall) {
  const auto trace =
      nlohmann::json::parse(chrome_trace({{3, "A", 1000, 1010}, {3, "B \"quoted\"", 1002, 1004}}));
  const auto& ev = trace.at("traceEvents");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].at("ph"), "X");
  EXPECT_DOUBLE_EQ(ev[0].at("ts").get<double>(), 0.0);  // relative to the earliest call
  EXPECT_DOUBLE_EQ(ev[1].at("ts").get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(ev[1].at("dur").get<double>(), 2.0);
  EXPECT_EQ(ev[1].at("tid"), 3);
  EXPECT_EQ(ev[1].at("name"), "B \"quoted\"");
}

TEST(StepProfiler, CountsTheOpsOfEachWindow) {
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({16, 16}), b = torch::randn({16, 16});
  StepProfiler profiler;
  for (int window = 0; window < 2; ++window) {
    profiler.start();
    for (int i = 0; i < 3; ++i) torch::mm(a, b);
    profiler.stop();
    torch::mm(a, b);  // between windows: not recorded
  }
  EXPECT_FALSE(profiler.recording());
  EXPECT_EQ(profiler.windows(), 2);
  EXPECT_GT(profiler.wall_us(), 0.0);
  const auto rows = aggregate_ops(profiler.events());
  const OpRow* mm = find_row(rows, "aten::mm");
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->calls, 6);
  EXPECT_GE(mm->total_us, mm->self_us);
}

TEST(StepProfiler, RecordsTheBackwardPass) {
  const auto w = torch::randn({8, 8}, torch::requires_grad());
  const auto x = torch::randn({4, 8});
  StepProfiler profiler;
  profiler.start();
  torch::mm(x, w).sum().backward();
  profiler.stop();
  const auto rows = aggregate_ops(profiler.events());
  const bool backward = std::any_of(rows.begin(), rows.end(), [](const OpRow& r) {
    return r.name.find("MmBackward") != std::string::npos;
  });
  EXPECT_TRUE(backward) << "no MmBackward row among " << rows.size() << " rows";
  ASSERT_NE(find_row(rows, "aten::mm"), nullptr);
  // The forward mm and the gradient of w (x^T times the incoming gradient).
  EXPECT_GE(find_row(rows, "aten::mm")->calls, 2);
  ASSERT_TRUE(w.grad().defined());
}

TEST(StepProfiler, WritesTheTableJsonAndTrace) {
  testing::TempDir tmp;
  StepProfiler profiler;
  profiler.start();
  torch::mm(torch::ones({4, 4}), torch::ones({4, 4}));
  profiler.stop();
  const std::string dir = tmp / "profile";
  EXPECT_EQ(profiler.write(dir, 6), dir + "/ops.txt");
  EXPECT_NE(io::read_file(dir + "/ops.txt").find("aten::mm"), std::string::npos);
  const auto j = nlohmann::json::parse(io::read_file(dir + "/ops.json"));
  EXPECT_EQ(j.at("steps"), 1);
  EXPECT_EQ(j.at("first_step"), 6);
  EXPECT_FALSE(j.at("ops").empty());
  EXPECT_FALSE(nlohmann::json::parse(io::read_file(dir + "/trace.json")).at("traceEvents").empty());
}

TEST(StepProfiler, DestructorTurnsAnOpenProfilerOff) {
  {
    StepProfiler abandoned;  // as when a step throws while it is recording
    abandoned.start();
  }
  StepProfiler next;  // enabling again would fail if the first were still on
  next.start();
  torch::mm(torch::ones({2, 2}), torch::ones({2, 2}));
  next.stop();
  EXPECT_NE(find_row(aggregate_ops(next.events()), "aten::mm"), nullptr);
}

}  // namespace
}  // namespace attnlab::train
