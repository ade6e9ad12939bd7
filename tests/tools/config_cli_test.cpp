// `attnlab config` and `attnlab list`, and how the command line reports each class of recipe
// error: exit code 2 and one clear line per problem naming file:line:col and the key.
#include <gtest/gtest.h>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

// Writes a recipe that includes the tiny test recipe and adds `extra` lines.
std::string recipe_with(const std::string& dir, const std::string& extra) {
  const std::string path = dir + "/r.yaml";
  write_text(path, "include: " + source_path("tests/tools/data/tiny.yaml") + "\n" + extra);
  return path;
}

void expect_user_error(const CommandResult& r, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(fragment), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
}

TEST(ConfigCli, PrintsTheResolvedRecipeWithProvenance) {
  const auto r = run_attnlab({"config", source_path("tests/tools/data/tiny.yaml"), "train.steps=7",
                              "+model.ff_dim=32"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("steps: 7  # command line 'train.steps=7'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tiny.yaml:"), std::string::npos);
  EXPECT_NE(r.output.find("# default"), std::string::npos);  // defaults are filled and marked
}

TEST(ConfigCli, YamlSyntaxError) {
  const std::string dir = make_temp_dir("cfg");
  expect_user_error(run_attnlab({"config", recipe_with(dir, "train: {steps: 3\n")}), "r.yaml:");
  expect_user_error(run_attnlab({"config", recipe_with(dir, "train: {steps: 3\n")}), "YAML syntax error");
}

TEST(ConfigCli, UnknownKeyWithSuggestion) {
  const std::string dir = make_temp_dir("cfg");
  expect_user_error(run_attnlab({"config", recipe_with(dir, "model:\n  layrs: 3\n")}),
                    "r.yaml:3:3: model.layrs: unknown key (did you mean 'layers'?)");
}

TEST(ConfigCli, WrongType) {
  const std::string dir = make_temp_dir("cfg");
  expect_user_error(run_attnlab({"config", recipe_with(dir, "train:\n  steps: ten\n")}),
                    "r.yaml:3:10: train.steps: expected an integer, got 'ten'");
}

TEST(ConfigCli, OutOfRangeFromTheCommandLine) {
  expect_user_error(run_attnlab({"config", source_path("tests/tools/data/tiny.yaml"), "optim.lr=-1"}),
                    "command line 'optim.lr=-1': optim.lr:");
}

TEST(ConfigCli, MissingInclude) {
  const std::string dir = make_temp_dir("cfg");
  write_text(dir + "/r.yaml", "include: nowhere.yaml\nname: x\n");
  expect_user_error(run_attnlab({"config", dir + "/r.yaml"}), "r.yaml:1:10: include 'nowhere.yaml' not found");
}

TEST(ConfigCli, IncludeCycle) {
  const std::string dir = make_temp_dir("cfg");
  write_text(dir + "/a.yaml", "include: b.yaml\n");
  write_text(dir + "/b.yaml", "include: a.yaml\n");
  expect_user_error(run_attnlab({"config", dir + "/a.yaml"}), "include cycle");
}

TEST(ConfigCli, MissingRecipeFile) {
  expect_user_error(run_attnlab({"train", "/nonexistent/recipe.yaml"}), "recipe '/nonexistent/recipe.yaml' not found");
}

TEST(ConfigCli, AllProblemsAreReportedAtOnce) {
  const std::string dir = make_temp_dir("cfg");
  const auto r = run_attnlab({"config", recipe_with(dir, "model:\n  layrs: 3\ntrain:\n  steps: ten\n"),
                              "model.attention.name=mhaa"});
  expect_user_error(r, "model.layrs");
  EXPECT_NE(r.output.find("train.steps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("unknown attention 'mhaa' (did you mean 'mha'?)"), std::string::npos) << r.output;
}

TEST(ConfigCli, ComponentErrorsNameTheSection) {
  // heads must divide d_model: only the module can tell, at build time.
  const std::string dir = make_temp_dir("cfg");
  const auto r = run_attnlab({"train", source_path("tests/tools/data/tiny.yaml"), "run_dir=" + dir,
                              "model.attention.heads=3"});
  expect_user_error(r, "model.attention");
}

TEST(ListCli, PrintsEveryKindWithDocumentedKeys) {
  const auto r = run_attnlab({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"dataset:", "model:", "attention:", "optimizer:", "schedule:", "regularizer:", "metric:",
                        "section:", "  digits - ", "  encoder_classifier - ", "  mha - ", "  adamw - ",
                        "  warmup_cosine - ", "  accuracy - ", "    heads (integer, default 4, >= 1): "})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  const auto one = run_attnlab({"list", "attentoin"});
  expect_user_error(one, "unknown kind 'attentoin' (did you mean 'attention'?)");
}

TEST(HelpCli, EveryCommandHasHelp) {
  for (const char* cmd : {"train", "eval", "config", "list", "export", "bench"}) {
    const auto r = run_attnlab({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find(std::string("usage: attnlab ") + cmd), std::string::npos) << r.output;
  }
  EXPECT_EQ(run_attnlab({"frobnicate"}).exit_code, 2);
}

}  // namespace
}  // namespace attnlab::testing
