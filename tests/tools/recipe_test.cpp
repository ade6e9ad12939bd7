// Whole-recipe validation with every component registered: overrides of keys a recipe leaves at
// their defaults, the framework sections' cross-checks, and the saved recipe re-reading.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/config/loader.h"
#include "framework/errors.h"
#include "framework/run/recipe.h"
#include "tools/cli_support.h"
#include "tools/components/components.h"

namespace attnlab::testing {
namespace {

std::string minimal_recipe() {
  const std::string path = make_temp_dir("recipe") + "/r.yaml";
  write_text(path, "data: {name: digits}\nmodel: {name: encoder_classifier}\ntrain: {steps: 10}\n");
  return path;
}

std::string error_of(const std::string& path, const std::vector<std::string>& overrides) {
  try {
    run::load_recipe(path, overrides);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

class RecipeTest : public ::testing::Test {
 protected:
  void SetUp() override { tools::register_all_components(); }
};

TEST_F(RecipeTest, OverridesReachKeysLeftAtTheirDefaults) {
  const auto r = run::load_recipe(minimal_recipe(), {"train.batch_size=8", "model.attention.heads=2",
                                                     "eval.split=test", "checkpoint.monitor=test/loss"});
  EXPECT_EQ(r.train.batch_size, 8);
  EXPECT_EQ(r.section("model").sub("attention").get_int("heads"), 2);
  EXPECT_EQ(r.section("model").sub("attention").get_string("name"), "mha");
  EXPECT_EQ(r.checkpoint.monitor, "test/loss");
  EXPECT_EQ(r.section("model").sub("attention").origin("heads").str(), "command line 'model.attention.heads=2'");
  EXPECT_EQ(r.section("model").origin("layers").str(), "default");
}

TEST_F(RecipeTest, TyposInOverridesAreStillCaught) {
  const auto path = minimal_recipe();
  EXPECT_NE(error_of(path, {"model.layrs=3"}).find("did you mean 'layers'?"), std::string::npos);
  EXPECT_NE(error_of(path, {"trian.steps=3"}).find("did you mean 'train'?"), std::string::npos);
  EXPECT_NE(error_of(path, {"model.attention.hedas=3"}).find("did you mean 'heads'?"), std::string::npos);
}

TEST_F(RecipeTest, MonitorMustBeAnEvaluatedMetric) {
  const std::string e = error_of(minimal_recipe(), {"checkpoint.monitor=val/acuracy"});
  EXPECT_NE(e.find("checkpoint.monitor: 'val/acuracy' is not an evaluated metric (did you mean 'val/accuracy'?)"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of(minimal_recipe(), {"eval.metrics=[accuracy, f1]"}).find("unknown metric 'f1'"), std::string::npos);
}

TEST_F(RecipeTest, StepsOrEpochsIsRequired) {
  EXPECT_NE(error_of(minimal_recipe(), {"train.steps=0"}).find("set train.steps or train.epochs"), std::string::npos);
}

TEST_F(RecipeTest, RequiredComponentsAndDefaults) {
  const std::string path = make_temp_dir("recipe") + "/r.yaml";
  write_text(path, "name: x\n");
  const std::string e = error_of(path, {});
  EXPECT_NE(e.find("data"), std::string::npos) << e;
  EXPECT_NE(e.find("model"), std::string::npos) << e;
  const auto r = run::load_recipe(minimal_recipe(), {});
  EXPECT_EQ(r.run_dir, "runs/run");
  EXPECT_EQ(r.section("optim").get_string("name"), "adamw");
  EXPECT_EQ(r.section("schedule").get_string("name"), "constant");
}

TEST_F(RecipeTest, TheSavedResolvedRecipeReadsBackTheSame) {
  const auto r = run::load_recipe(source_path("recipes/quickstart.yaml"), {"train.steps=7"});
  const std::string saved = make_temp_dir("saved") + "/recipe.yaml";
  write_text(saved, r.tree.to_yaml());
  const auto again = run::recipe_from_tree(config::parse_yaml_file(saved), saved);
  EXPECT_EQ(again.tree.to_yaml(), r.tree.to_yaml());
  EXPECT_EQ(again.train.steps, 7);
}

// Every recipe under recipes/ (found on disk, so a new recipe is covered without editing this
// test) must validate as `attnlab config` validates it, so a schema change cannot silently break
// one. Fragments (recipes/base/*, *_base.yaml) lack a model or data on purpose; each must be
// included by some other file, which validates it through that file.
TEST_F(RecipeTest, EveryShippedRecipeValidates) {
  namespace fs = std::filesystem;
  const fs::path root = source_path("recipes");
  std::vector<fs::path> recipes, fragments;
  std::vector<std::string> include_lines;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    // recipes/suites/ holds `attnlab reproduce` suites, not recipes; reproduce_cli_test.cpp checks them.
    if (entry.path().parent_path().filename() == "suites") continue;
    const std::string name = entry.path().filename().string();
    const bool fragment = entry.path().parent_path().filename() == "base" ||
                          (name.size() > 10 && name.compare(name.size() - 10, 10, "_base.yaml") == 0);
    (fragment ? fragments : recipes).push_back(entry.path());
    for (const auto& line : lines_of(read_text(entry.path().string())))
      if (line.rfind("include:", 0) == 0) include_lines.push_back(line);
  }
  // The recipes of the READMEs: quickstart, 4 MoH digits, 6 ListOps (small and _paper).
  EXPECT_GE(recipes.size(), 11u);
  for (const auto& recipe : recipes) EXPECT_EQ(error_of(recipe.string(), {}), "") << recipe;
  for (const auto& fragment : fragments) {
    const std::string name = fragment.filename().string();
    const bool included = std::any_of(include_lines.begin(), include_lines.end(), [&](const std::string& line) {
      return line.find("/" + name) != std::string::npos || line.find(" " + name) != std::string::npos;
    });
    EXPECT_TRUE(included) << fragment << " is included by no recipe";
  }
  EXPECT_EQ(error_of(source_path("tests/tools/data/tiny.yaml"), {}), "");
}

}  // namespace
}  // namespace attnlab::testing
