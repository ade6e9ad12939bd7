// `attnlab bench attention` on a tiny size: the command runs, prints a row per (module, T) and
// writes the same rows to JSON, and a bad option is a one-line user error (exit 2). Benchmarks
// are tools, not tests (DESIGN.md §7): nothing here asserts a time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::vector<std::string> kModules = {"mha",        "moh100", "moh75", "moh75_skip",
                                           "moh50",      "moh50_skip", "mega", "mega_chunk"};
const std::vector<int64_t> kLengths = {16, 33};  // 33: not a multiple of anything the modules tile by

TEST(BenchCli, TinyRunPrintsAndWritesEveryRow) {
  const std::string json_path = make_temp_dir("bench") + "/bench.json";
  const auto r = run_attnlab({"bench", "attention", "--lengths", "16,33", "--d-model", "16", "--repeats",
                              "1", "--warmup", "0", "--json", json_path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("failed"), std::string::npos) << r.output;

  // Table rows: "<module> <T> <median> <min> <ratio> <MiB>".
  std::set<std::pair<std::string, int64_t>> printed;
  for (const auto& line : lines_of(r.output)) {
    std::istringstream in(line);
    std::string module;
    int64_t t = 0;
    if (in >> module >> t) printed.insert({module, t});
  }
  const auto json = nlohmann::json::parse(read_text(json_path));
  std::set<std::pair<std::string, int64_t>> written;
  for (const auto& row : json.at("rows")) {
    written.insert({row.at("module").get<std::string>(), row.at("length").get<int64_t>()});
    EXPECT_TRUE(row.at("ok").get<bool>()) << row.dump();
    EXPECT_GT(row.at("median_ms").get<double>(), 0.0) << row.dump();
    EXPECT_GT(row.at("parameters").get<int64_t>(), 0) << row.dump();
  }
  EXPECT_EQ(json.at("rows").size(), kModules.size() * kLengths.size());
  for (const auto& m : kModules)
    for (int64_t t : kLengths) {
      EXPECT_TRUE(printed.count({m, t})) << m << " T=" << t << "\n" << r.output;
      EXPECT_TRUE(written.count({m, t})) << m << " T=" << t;
    }
  EXPECT_EQ(json.at("settings").at("d_model").get<int64_t>(), 16);
  EXPECT_TRUE(json.at("machine").contains("torch_version"));
  EXPECT_GT(json.at("machine").at("cores").get<int64_t>(), 0);
}

void expect_user_error(const std::vector<std::string>& args, const std::string& fragment) {
  const auto r = run_attnlab(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
}

TEST(BenchCli, BadOptionsAreOneLineUserErrors) {
  expect_user_error({"bench", "attention", "--lenghts", "16"}, "unknown option '--lenghts'");
  expect_user_error({"bench", "attention", "--modules", "mha,nope"}, "unknown module 'nope'");
  expect_user_error({"bench", "attention", "--repeats", "two"}, "--repeats: expected an integer, got 'two'");
  expect_user_error({"bench", "attention", "--d-model", "12"}, "--d-model 12");
  expect_user_error({"bench", "flops"}, "unknown benchmark 'flops'");
}

}  // namespace
}  // namespace attnlab::testing
