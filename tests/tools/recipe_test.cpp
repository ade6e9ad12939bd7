// Whole-recipe validation with every component registered: overrides of keys a recipe leaves at
// their defaults, the framework sections' cross-checks, and the saved recipe re-reading.
#include <gtest/gtest.h>

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

TEST_F(RecipeTest, EveryShippedRecipeValidates) {
  for (const char* recipe : {"recipes/quickstart.yaml", "tests/tools/data/tiny.yaml", "recipes/moh/digits_vit_mha.yaml",
                             "recipes/moh/digits_vit_moh75.yaml", "recipes/moh/digits_vit_moh50.yaml",
                             "recipes/mega/listops_transformer.yaml", "recipes/mega/listops_mega.yaml",
                             "recipes/mega/listops_mega_chunk.yaml", "recipes/moh/lm_bytes_mha.yaml",
                             "recipes/moh/lm_bytes_moh75.yaml", "recipes/moh/lm_bytes_moh50.yaml",
                             "recipes/mega/lm_bytes_mega.yaml", "recipes/lm_words.yaml"})
    EXPECT_NO_THROW(run::load_recipe(source_path(recipe), {})) << recipe;
}

}  // namespace
}  // namespace attnlab::testing
