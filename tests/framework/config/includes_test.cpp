// `include:` in recipe files: order and deep merge, relative paths, origins of merged values,
// cycles reported with the chain, missing includes reported where they are written.
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "framework/config/loader.h"

namespace attnlab::config {
namespace {

using testing::TempDir;
using testing::user_error;

TEST(ConfigIncludes, IncludedFileIsMergedUnderTheIncludingOne) {
  TempDir dir;
  dir.write("base.yaml",
            "model:\n  d_model: 64\n  layers: 2\n  sizes: [1, 2, 3]\ntrain: {steps: 100}\n");
  std::string top =
      dir.write("top.yaml", "include: base.yaml\nmodel:\n  layers: 4\n  sizes: [9]\nname: run\n");
  Value v = load_recipe_file(top);
  EXPECT_EQ(v.find("include"), nullptr);
  const Value& model = *v.find("model");
  EXPECT_EQ(model.find("d_model")->text(), "64");      // kept from the include (deep merge)
  EXPECT_EQ(model.find("layers")->text(), "4");        // later wins
  ASSERT_EQ(model.find("sizes")->items().size(), 1u);  // lists are replaced whole
  EXPECT_EQ(model.find("sizes")->items()[0].text(), "9");
  EXPECT_EQ(v.find("train")->find("steps")->text(), "100");
  EXPECT_EQ(v.find("name")->text(), "run");
}

TEST(ConfigIncludes, MergedValuesKeepTheWinnersOrigin) {
  TempDir dir;
  std::string base = dir.write("base.yaml", "model:\n  d_model: 64\n  layers: 2\n");
  std::string top = dir.write("top.yaml", "include: base.yaml\nmodel:\n  layers: 4\n");
  Value v = load_recipe_file(top);
  EXPECT_EQ(v.find("model")->find("d_model")->origin().str(), base + ":2:12");
  EXPECT_EQ(v.find("model")->find("layers")->origin().str(), top + ":3:11");
}

TEST(ConfigIncludes, ListOfIncludesMergesInOrderThenTheFileOnTop) {
  TempDir dir;
  dir.write("a.yaml", "x: 1\ny: 1\nz: 1\n");
  dir.write("b.yaml", "y: 2\nz: 2\n");
  std::string top = dir.write("top.yaml", "include: [a.yaml, b.yaml]\nz: 3\n");
  Value v = load_recipe_file(top);
  EXPECT_EQ(v.find("x")->text(), "1");
  EXPECT_EQ(v.find("y")->text(), "2");
  EXPECT_EQ(v.find("z")->text(), "3");
}

TEST(ConfigIncludes, ScalarsReplaceMapsAndMapsReplaceScalars) {
  TempDir dir;
  dir.write("a.yaml", "m: {k: 1}\ns: 5\n");
  std::string top = dir.write("top.yaml", "include: a.yaml\nm: off\ns: {k: 2}\n");
  Value v = load_recipe_file(top);
  EXPECT_TRUE(v.find("m")->is_scalar());
  EXPECT_TRUE(v.find("s")->is_map());
}

TEST(ConfigIncludes, PathsAreRelativeToTheIncludingFile) {
  TempDir dir;
  dir.write("base/common.yaml", "a: common\n");
  dir.write("base/classify.yaml", "include: common.yaml\nb: classify\n");
  std::string top =
      dir.write("papers/moh/listops.yaml", "include: ../../base/classify.yaml\nc: top\n");
  Value v = load_recipe_file(top);
  EXPECT_EQ(v.find("a")->text(), "common");
  EXPECT_EQ(v.find("b")->text(), "classify");
  EXPECT_EQ(v.find("a")->origin().file, dir.path("base/common.yaml"));
}

TEST(ConfigIncludes, DiamondIsNotACycle) {
  TempDir dir;
  dir.write("d.yaml", "v: d\n");
  dir.write("b.yaml", "include: d.yaml\n");
  dir.write("c.yaml", "include: d.yaml\n");
  std::string top = dir.write("a.yaml", "include: [b.yaml, c.yaml]\n");
  EXPECT_EQ(load_recipe_file(top).find("v")->text(), "d");
}

TEST(ConfigIncludes, CycleIsReportedWithTheChainAndTheIncludeLocation) {
  TempDir dir;
  std::string a = dir.write("a.yaml", "include: b.yaml\nx: 1\n");
  std::string b = dir.write("b.yaml", "y: 2\ninclude:\n  - a.yaml\n");
  std::string message = user_error([&] { load_recipe_file(a); });
  EXPECT_EQ(message, b + ":3:5: include cycle: " + a + " -> " + b + " -> " + a);
}

TEST(ConfigIncludes, RelativeChainIsShownAsWritten) {
  TempDir dir;
  dir.write("r/a.yaml", "include: b.yaml\n");
  dir.write("r/b.yaml", "include: ../r/a.yaml\n");
  struct InDirectory {
    std::filesystem::path previous = std::filesystem::current_path();
    explicit InDirectory(const std::string& d) { std::filesystem::current_path(d); }
    ~InDirectory() { std::filesystem::current_path(previous); }
  };
  std::string message;
  {
    InDirectory in(dir.path());
    message = user_error([] { load_recipe_file("r/a.yaml"); });
  }
  EXPECT_EQ(message, "r/b.yaml:1:10: include cycle: r/a.yaml -> r/b.yaml -> r/a.yaml");
}

TEST(ConfigIncludes, SelfIncludeIsACycle) {
  TempDir dir;
  std::string a = dir.write("a.yaml", "include: a.yaml\n");
  EXPECT_EQ(user_error([&] { load_recipe_file(a); }),
            a + ":1:10: include cycle: " + a + " -> " + a);
}

TEST(ConfigIncludes, MissingIncludeNamesTheEntryAndTheResolvedPath) {
  TempDir dir;
  std::string a = dir.write("sub/a.yaml", "name: x\ninclude:\n  - ../base/nope.yaml\n");
  std::string message = user_error([&] { load_recipe_file(a); });
  EXPECT_EQ(message, a + ":3:5: include '../base/nope.yaml' not found (resolved to '" +
                         dir.path("base/nope.yaml") + "')");
}

TEST(ConfigIncludes, IncludeMustBeAPathOrAList) {
  TempDir dir;
  std::string a = dir.write("a.yaml", "include: {x: 1}\n");
  EXPECT_EQ(user_error([&] { load_recipe_file(a); }),
            a + ":1:10: include: expected a path or a list of paths, got a map");
}

TEST(ConfigIncludes, ErrorsInsideAnIncludedFileNameThatFile) {
  TempDir dir;
  std::string bad = dir.write("bad.yaml", "a: [1\n");
  std::string a = dir.write("a.yaml", "include: bad.yaml\n");
  std::string message = user_error([&] { load_recipe_file(a); });
  EXPECT_EQ(message.rfind(bad + ":2:1: YAML syntax error:", 0), 0u) << message;
}

TEST(ConfigIncludes, RecipeMustBeAMapAndMayBeEmpty) {
  TempDir dir;
  std::string list = dir.write("list.yaml", "- 1\n- 2\n");
  EXPECT_EQ(user_error([&] { load_recipe_file(list); }),
            list + ":1:1: a recipe is a map of keys, got a list");
  std::string empty = dir.write("empty.yaml", "");
  Value v = load_recipe_file(empty);
  EXPECT_TRUE(v.is_map());
  EXPECT_TRUE(v.entries().empty());
}

TEST(ConfigIncludes, DeepMergeReplacesNonMapsAndKeepsKeyOrder) {
  Value base = parse_yaml_text("a: {x: 1, y: [1, 2]}\nb: 2\n", "base");
  deep_merge(base, parse_yaml_text("a: {y: [3], z: 4}\nc: 5\n", "top"));
  EXPECT_EQ(base.keys(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(base.find("a")->keys(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(base.find("a")->find("y")->items().size(), 1u);
  EXPECT_EQ(base.find("a")->find("y")->origin().file, "top");
  EXPECT_EQ(base.find("a")->find("x")->origin().file, "base");
}

}  // namespace
}  // namespace attnlab::config
