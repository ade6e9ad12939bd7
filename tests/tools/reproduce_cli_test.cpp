// `attnlab reproduce`: the tiny suite's table and results (and a rerun reusing its run
// directories), a failed run as a row while the suite goes on, one-line errors for bad suite
// files and unknown suites, --list, and every shipped suite passing --dry-run (recipe paths exist,
// recipes and overrides validate).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kPaperSuites = {"mega-listops-small", "moh-digits", "at-evidence", "aem-bags",
                                               "abstention-digits"};

nlohmann::json results_of(const std::string& dir) { return nlohmann::json::parse(read_text(dir + "/results.json")); }

size_t table_rows(const std::string& table, const std::string& first_cell_prefix) {
  size_t n = 0;
  for (const auto& line : lines_of(table)) n += line.rfind("| " + first_cell_prefix, 0) == 0;
  return n;
}

TEST(ReproduceCli, TinySuiteProducesItsTable) {
  const std::string out = make_temp_dir("reproduce");
  auto r = run_attnlab({"reproduce", "tiny", "--output", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string dir = out + "/tiny";
  // One row per run, printed and saved.
  EXPECT_EQ(table_rows(r.output, "digits_vit_"), 2u) << r.output;
  const std::string table = read_text(dir + "/table.md");
  EXPECT_EQ(table_rows(table, "digits_vit_"), 2u) << table;
  EXPECT_NE(table.find("| run "), std::string::npos) << table;
  EXPECT_NE(table.find("paper claim"), std::string::npos) << table;

  auto results = results_of(dir);
  EXPECT_EQ(results.at("suite"), "tiny");
  const auto runs = results.at("runs");
  ASSERT_EQ(runs.size(), 2u);
  std::vector<double> values;
  for (const auto& run : runs) {
    EXPECT_EQ(run.at("status"), "ok") << run;
    ASSERT_TRUE(run.at("value").is_number()) << run;
    values.push_back(run.at("value").get<double>());
    EXPECT_GE(values.back(), 0.0);
    EXPECT_LE(values.back(), 1.0);
    EXPECT_GT(run.at("seconds").get<double>(), 0.0);
    EXPECT_EQ(run.at("exit_code"), 0);
    const std::string run_dir = run.at("run_dir");
    EXPECT_EQ(fs::path(run_dir).parent_path(), fs::path(dir));
    EXPECT_TRUE(fs::is_regular_file(run_dir + "/summary.json")) << run_dir;
    for (const char* key : {"recipe", "claim", "expected", "metric"}) EXPECT_TRUE(run.contains(key)) << key;
  }
  // The mha row asks for best.test.accuracy first; best is the last step here, so final's is read.
  EXPECT_EQ(runs[0].at("metric"), "final.test.accuracy");

  // Rerunning one run reuses its finished directory (no new steps, the same result); the other
  // row keeps its earlier result.
  r = run_attnlab({"reproduce", "tiny", "--output", out, "--only", "digits_vit_moh75"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  results = results_of(dir);
  EXPECT_EQ(results.at("runs")[0].at("status"), "earlier_run");
  EXPECT_DOUBLE_EQ(results.at("runs")[0].at("value").get<double>(), values[0]);
  EXPECT_EQ(results.at("runs")[1].at("status"), "ok");
  EXPECT_DOUBLE_EQ(results.at("runs")[1].at("value").get<double>(), values[1]);
  const auto summary = nlohmann::json::parse(read_text(dir + "/digits_vit_moh75/summary.json"));
  EXPECT_EQ(summary.at("steps"), 20);
}

TEST(ReproduceCli, AFailedRunIsARowAndTheSuiteGoesOn) {
  const std::string dir = make_temp_dir("reproduce-fail");
  const std::string tiny = source_path("tests/tools/data/tiny.yaml");
  write_text(dir + "/suite.yaml",
             "description: one run diverges, the next trains\n"
             "overrides: [train.steps=10, train.eval_every=10]\n"
             "runs:\n"
             "  - {recipe: " + tiny + ", name: diverges, claim: none, metric: final.test.accuracy,\n"
             "     overrides: ['debug.nan_loss_at_steps=[1,2,3,4,5]']}\n"
             "  - {recipe: " + tiny + ", name: trains, claim: none, metric: final.test.accuracy, expected: 0.5}\n");
  const auto r = run_attnlab({"reproduce", dir + "/suite.yaml", "--output", dir + "/out"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto runs = results_of(dir + "/out/suite").at("runs");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].at("status"), "failed");
  EXPECT_EQ(runs[0].at("exit_code"), 1);
  EXPECT_TRUE(runs[0].at("value").is_null());
  EXPECT_EQ(runs[1].at("status"), "ok") << r.output;
  EXPECT_TRUE(runs[1].at("value").is_number());
  EXPECT_DOUBLE_EQ(runs[1].at("expected").get<double>(), 0.5);
  EXPECT_NE(r.output.find("failed (exit 1)"), std::string::npos) << r.output;
}

TEST(ReproduceCli, ASuiteWithoutRecipeIsRefusedNamingFileAndKey) {
  const std::string dir = make_temp_dir("reproduce-bad");
  const std::string suite = dir + "/bad.yaml";
  write_text(suite,
             "description: a run without its recipe\n"
             "runs:\n"
             "  - claim: something\n"
             "    metric: final.test.accuracy\n");
  const auto r = run_attnlab({"reproduce", suite, "--output", dir});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(suite + ":3:5: runs.0.recipe: missing"), std::string::npos) << r.output;
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/bad")) << "nothing may run";
}

TEST(ReproduceCli, AnUnknownSuiteListsTheKnownOnes) {
  const auto r = run_attnlab({"reproduce", "moh-digit"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("unknown suite 'moh-digit' (did you mean 'moh-digits'?); known suites: "), std::string::npos)
      << r.output;
  for (const auto& s : kPaperSuites) EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

TEST(ReproduceCli, ListShowsThePaperSuites) {
  const auto r = run_attnlab({"reproduce", "--list"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& s : kPaperSuites) {
    bool listed = false;
    for (const auto& line : lines_of(r.output)) listed = listed || line.rfind(s + " ", 0) == 0;
    EXPECT_TRUE(listed) << s << " not listed:\n" << r.output;
  }
}

// Every shipped suite's recipe paths exist and its recipes validate with their overrides; nothing
// is trained or written.
TEST(ReproduceCli, EveryShippedSuitePassesDryRun) {
  const std::string out = make_temp_dir("reproduce-dry");
  std::vector<std::string> suites = kPaperSuites;
  suites.push_back("tiny");
  for (const auto& s : suites) {
    const auto r = run_attnlab({"reproduce", s, "--dry-run", "--output", out});
    EXPECT_EQ(r.exit_code, 0) << s << ":\n" << r.output;
    EXPECT_NE(r.output.find("attnlab train "), std::string::npos) << r.output;
  }
  EXPECT_TRUE(fs::is_empty(out));
}

}  // namespace
}  // namespace attnlab::testing
