// `attnlab report` and `attnlab compare` end to end. Short runs with each kind of data the report
// draws (a MoH digits ViT with the abstention stage: curves, routing, patch heatmaps, abstention
// figures; evidence text: word heatmaps with evidence outlined; MIL bags: instance heatmaps), each
// page checked for the series it must plot and rendered in headless chromium (installed by
// tools/setup.sh) without console errors. A page with a script error shows the check can fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "framework/logging/tensorboard.h"
#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

std::string chromium_binary() {
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(candidate)) return candidate;
  return "";
}

struct Rendered {
  int exit_code = -1;
  std::vector<std::string> console;  // console messages and uncaught errors the page produced
  std::uintmax_t screenshot_bytes = 0;
};

// Loads `html` in headless chromium, saving a screenshot; Chromium logs every console message
// (including uncaught exceptions) to stderr as "...:CONSOLE(...)] ...".
Rendered render(const std::string& html) {
  const std::string dir = make_temp_dir("chromium");
  const std::string png = dir + "/page.png", log = dir + "/stderr.txt";
  const std::string command = chromium_binary() +
                              " --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=" + dir +
                              "/profile --enable-logging=stderr --v=0 --window-size=1400,3000 --screenshot=" + png +
                              " file://" + std::filesystem::absolute(html).string() + " >/dev/null 2>" + log;
  Rendered r;
  r.exit_code = std::system(command.c_str());
  for (const auto& line : lines_of(read_text(log)))
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) r.console.push_back(line);
  if (std::filesystem::exists(png)) r.screenshot_bytes = std::filesystem::file_size(png);
  return r;
}

void expect_renders_cleanly(const std::string& html) {
  ASSERT_FALSE(chromium_binary().empty()) << "chromium is not installed: run tools/setup.sh";
  const Rendered r = render(html);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GT(r.screenshot_bytes, 10000u) << "no screenshot of " << html;
  for (const auto& line : r.console) ADD_FAILURE() << html << ": " << line;
}

void expect_contains(const std::string& page, const std::vector<std::string>& needles) {
  for (const auto& n : needles) EXPECT_NE(page.find(n), std::string::npos) << "missing " << n;
}

std::string train(const std::string& recipe, const std::string& name, std::vector<std::string> overrides) {
  const std::string dir = make_temp_dir("report-" + name);
  std::vector<std::string> args = {"train", source_path(recipe), "run_dir=" + dir, "train.progress=none", "train.threads=1"};
  args.insert(args.end(), overrides.begin(), overrides.end());
  const auto r = run_attnlab(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir;
}

std::string report(const std::string& run_dir) {
  const auto r = run_attnlab({"report", run_dir});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_text(run_dir + "/report.html");
}

TEST(ReportCli, TheConsoleCheckSeesScriptErrors) {
  ASSERT_FALSE(chromium_binary().empty()) << "chromium is not installed: run tools/setup.sh";
  const std::string page = make_temp_dir("bad-page") + "/bad.html";
  write_text(page, "<!DOCTYPE html><html><body><p>x</p><script>console.error('boom'); undefined_function();</script></body></html>");
  const Rendered r = render(page);
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.console.size(), 2u);
  EXPECT_NE(r.console[0].find("boom"), std::string::npos);
  EXPECT_NE(r.console[1].find("undefined_function"), std::string::npos);
}

TEST(ReportCli, MohRunWithAbstentionHasCurvesRoutingPatchesAndAbstentionFigures) {
  const std::string dir =
      train("recipes/abstention/digits_robustness.yaml", "moh",
            {"train.steps=60", "train.eval_every=30", "train.log_every=10",
             "model.attention={name: moh, heads: 4, shared_heads: 1, routed_topk: 2}", "abstention.rl_epochs=5",
             "abstention.corruptions=[blur]", "abstention.severities=[1, 5]"});
  const std::string page = report(dir);
  expect_contains(page, {
      "data-series=\"train loss\"", "data-series=\"train loss/task\"", "data-series=\"train loss/moh_balance\"",
      "data-series=\"val loss\"", "data-series=\"val\"",           // accuracy and the other metrics per split
      "data-series=\"lr\"", "data-series=\"grad_norm\"",
      "moh_active_fraction", "moh_head_usage (newest training step)", "data-series=\"layer0\"",
      "class=\"patches\"", "class=\"cell\"",                       // attention over the image's patches
      "Reliability diagram", "data-series=\"mean confidence\"", "data-series=\"clean\"", "data-series=\"blur@5\"",
      "Set sizes", "data-series=\"lac\"", "Severity sweep: blur", "data-series=\"model accuracy\"",
      "Run record", "Resolved recipe", "name: moh"});
  expect_renders_cleanly(dir + "/report.html");

  // TensorBoard gets the weights' distributions at each evaluation and the head usage as a
  // distribution over the head index at each logged step.
  std::string events;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().rfind("events.out.tfevents", 0) == 0) events = entry.path().string();
  ASSERT_FALSE(events.empty());
  std::set<std::string> tags;
  for (const auto& h : logging::read_tensorboard_histograms(events)) tags.insert(h.tag);
  EXPECT_TRUE(tags.count("train/attention/layer0/moh_head_usage"));
  EXPECT_TRUE(tags.count("weights/head.weight")) << "tags: " << tags.size();
}

TEST(ReportCli, TextAndMilRunsShowTokenHeatmaps) {
  const std::string text = train("recipes/attention_at/evidence_vanilla.yaml", "text",
                                 {"train.steps=20", "train.eval_every=20", "data.train_size=200", "data.val_size=50",
                                  "data.test_size=50", "model.embed_dim=16", "model.hidden=16"});
  const std::string text_page = report(text);
  // Evidence words are named E<class>.<j>, distractors w<k>; evidence cells are outlined.
  expect_contains(text_page, {"class=\"heatmap\"", "data-row=\"0\"", "(evidence)", "<title>E", "<title>w", "pool"});
  expect_renders_cleanly(text + "/report.html");

  const std::string mil = train("recipes/aem/digits_mil_abmil.yaml", "mil",
                                {"train.epochs=0", "train.steps=20", "train.eval_every=20", "data.train_bags=20",
                                 "data.val_bags=10", "data.test_bags=10"});
  const std::string mil_page = report(mil);
  expect_contains(mil_page, {"class=\"heatmap\"", "#0", "data-series=\"val\""});
  expect_renders_cleanly(mil + "/report.html");

  // compare: one row per run, each final metric a column, and the HTML page.
  const std::string html = make_temp_dir("compare") + "/compare.html";
  const auto c = run_attnlab({"compare", text, mil, "--html", html});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  const auto lines = lines_of(c.output);
  ASSERT_EQ(lines.size(), 4u) << c.output;  // header, rule, two runs
  EXPECT_NE(lines[0].find("test/accuracy"), std::string::npos) << c.output;
  EXPECT_NE(lines[2].find(text), std::string::npos);
  EXPECT_NE(lines[3].find("| completed |"), std::string::npos) << c.output;
  expect_contains(read_text(html), {"class=\"bar\"", "test/accuracy"});
  expect_renders_cleanly(html);
}

TEST(ReportCli, ARunWithoutCheckpointsStillReportsAndBadInputIsOneLine) {
  const std::string dir = make_temp_dir("report-bare");
  write_text(dir + "/recipe.yaml", "name: bare\n");
  write_text(dir + "/metrics.jsonl", "{\"kind\":\"train\",\"step\":10,\"loss\":1.5,\"lr\":0.1}\n");
  const std::string page = report(dir);
  expect_contains(page, {"data-series=\"train loss\"", "no heatmaps:"});

  write_text(dir + "/metrics.jsonl", "{\"kind\":\"train\",\"step\":10,\"loss\":1.5}\nnot json\n");
  const auto bad = run_attnlab({"report", dir});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find(dir + "/metrics.jsonl:2: not JSON"), std::string::npos) << bad.output;
  EXPECT_EQ(run_attnlab({"report", dir + "/nothing"}).exit_code, 2);
  EXPECT_EQ(run_attnlab({"compare", dir + "/nothing"}).exit_code, 2);
}

}  // namespace
}  // namespace attnlab::testing
