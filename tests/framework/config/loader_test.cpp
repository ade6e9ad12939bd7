// Parsing one YAML recipe into a Value tree: kinds, quoting, nulls, 1-based origins, and the
// messages for syntax errors, missing files, duplicate keys and unsupported YAML.
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "framework/config/loader.h"

namespace attnlab::config {
namespace {

using testing::TempDir;
using testing::user_error;

TEST(ConfigParse, BuildsMapsListsAndScalarsInOrder) {
  Value v = parse_yaml_text("b: 1\na: [x, y]\nc: {d: true}\n", "r.yaml");
  ASSERT_TRUE(v.is_map());
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ(v.find("b")->text(), "1");
  ASSERT_TRUE(v.find("a")->is_list());
  EXPECT_EQ(v.find("a")->items()[1].text(), "y");
  EXPECT_EQ(v.find("c")->find("d")->text(), "true");
}

TEST(ConfigParse, QuotedScalarsAreMarkedQuotedAndPlainOnesAreNot) {
  Value v = parse_yaml_text("a: '10'\nb: \"x\"\nc: 10\nd: !!str 5\n", "r.yaml");
  EXPECT_TRUE(v.find("a")->quoted());
  EXPECT_EQ(v.find("a")->text(), "10");
  EXPECT_TRUE(v.find("b")->quoted());
  EXPECT_FALSE(v.find("c")->quoted());
  EXPECT_TRUE(v.find("d")->quoted());
}

TEST(ConfigParse, EmptyTildeAndNullAreNullButQuotedNullIsAString) {
  Value v = parse_yaml_text("a:\nb: ~\nc: null\nd: 'null'\n", "r.yaml");
  EXPECT_TRUE(v.find("a")->is_null());
  EXPECT_TRUE(v.find("b")->is_null());
  EXPECT_TRUE(v.find("c")->is_null());
  ASSERT_TRUE(v.find("d")->is_scalar());
  EXPECT_EQ(v.find("d")->text(), "null");
}

TEST(ConfigParse, OriginsAreOneBasedLineAndColumn) {
  Value v = parse_yaml_text("model:\n  layers: 4\n  list:\n    - a\n", "recipes/q.yaml");
  const Value& layers = *v.find("model")->find("layers");
  EXPECT_EQ(layers.origin().file, "recipes/q.yaml");
  EXPECT_EQ(layers.origin().line, 2);
  EXPECT_EQ(layers.origin().column, 11);
  EXPECT_EQ(layers.origin().str(), "recipes/q.yaml:2:11");
  EXPECT_EQ(v.find("model")->find("list")->items()[0].origin().str(), "recipes/q.yaml:4:7");
}

TEST(ConfigParse, BlockCollectionsAndEmptyValuesAreLocatedAtTheirKey) {
  // yaml-cpp marks an empty value at the next token and a block map at its first child; the
  // user reads both as being where the key is.
  Value v = parse_yaml_text("model:\n  layers: 4\nempty:\nnext: 1\n", "q.yaml");
  EXPECT_EQ(v.find("model")->origin().str(), "q.yaml:1:1");
  EXPECT_EQ(v.find("empty")->origin().str(), "q.yaml:3:1");
}

TEST(ConfigParse, SyntaxErrorNamesFileLineAndColumn) {
  std::string message = user_error([] { parse_yaml_text("a: 1\nb: [1, 2\n", "recipes/bad.yaml"); });
  EXPECT_EQ(message.rfind("recipes/bad.yaml:3:1: YAML syntax error: ", 0), 0u) << message;
  EXPECT_NE(message.find("end of sequence flow not found"), std::string::npos) << message;

  message = user_error([] { parse_yaml_text("a:\n\tb: 1\n", "t.yaml"); });
  EXPECT_EQ(message, "t.yaml:2:3: YAML syntax error: illegal map value");
}

TEST(ConfigParse, DuplicateKeysAreErrors) {
  std::string message = user_error([] { parse_yaml_text("a: 1\nb: 2\na: 3\n", "d.yaml"); });
  EXPECT_EQ(message, "d.yaml:3:1: duplicate key 'a' (first given on line 1)");
}

TEST(ConfigParse, OnlyOneDocumentPerRecipe) {
  std::string message = user_error([] { parse_yaml_text("a: 1\n---\nb: 2\n", "m.yaml"); });
  EXPECT_NE(message.find("m.yaml:3:1: a recipe is one YAML document"), std::string::npos)
      << message;
}

TEST(ConfigParse, UnsupportedTagsAreErrors) {
  std::string message = user_error([] { parse_yaml_text("a: !python/object 1\n", "t.yaml"); });
  EXPECT_EQ(message, "t.yaml:1:4: unsupported YAML tag '!python/object'");
}

TEST(ConfigParse, KeysMustBeScalars) {
  EXPECT_EQ(user_error([] { parse_yaml_text("? [a, b]\n: 1\n", "k.yaml"); }),
            "k.yaml:1:3: map keys must be plain names, got a map or a list");
}

TEST(ConfigParse, EmptyTextIsNull) {
  EXPECT_TRUE(parse_yaml_text("", "e.yaml").is_null());
  EXPECT_TRUE(parse_yaml_text("# only a comment\n", "e.yaml").is_null());
}

TEST(ConfigParse, AliasesCopyTheAnchoredValue) {
  Value v = parse_yaml_text("a: &w {x: 1}\nb: *w\n", "a.yaml");
  EXPECT_EQ(v.find("b")->find("x")->text(), "1");
}

TEST(ConfigParse, RecursiveAliasIsAnErrorNotACrash) {
  EXPECT_EQ(user_error([] { parse_yaml_text("a: &x [*x]\n", "r.yaml"); }),
            "r.yaml:1:4: an alias refers to a value that contains it");
}

TEST(ConfigParseFile, MissingRecipeIsReported) {
  TempDir dir;
  std::string path = dir.path("x.yaml");
  EXPECT_EQ(user_error([&] { parse_yaml_file(path); }), "recipe '" + path + "' not found");
  EXPECT_EQ(user_error([] { load_recipe_file("no/such/x.yaml"); }),
            "recipe 'no/such/x.yaml' not found");
}

TEST(ConfigParseFile, DirectoryIsNotARecipe) {
  TempDir dir;
  std::string message = user_error([&] { parse_yaml_file(dir.path()); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
}

TEST(ConfigParseFile, OriginsNameTheFile) {
  TempDir dir;
  std::string path = dir.write("r.yaml", "train:\n  steps: 10\n");
  Value v = parse_yaml_file(path);
  EXPECT_EQ(v.find("train")->find("steps")->origin().str(), path + ":2:10");
}

}  // namespace
}  // namespace attnlab::config
