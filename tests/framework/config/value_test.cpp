// The Value tree and its printing: origins as text, the map API, and to_yaml (block and flow
// style, quoting that reads back the same, provenance comments).
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "framework/config/loader.h"

namespace attnlab::config {
namespace {

Origin at(const std::string& file, int line, int column) {
  Origin o;
  o.file = file;
  o.line = line;
  o.column = column;
  return o;
}

TEST(ConfigValue, OriginText) {
  EXPECT_EQ(at("recipes/a.yaml", 12, 5).str(), "recipes/a.yaml:12:5");
  EXPECT_EQ(at("a.yaml", 3, 0).str(), "a.yaml:3");
  EXPECT_EQ(at("a.yaml", 0, 0).str(), "a.yaml");
  EXPECT_EQ(Origin{}.str(), "");
  EXPECT_EQ(Origin::command_line("train.steps=5").str(), "command line 'train.steps=5'");
  EXPECT_EQ(Origin::defaulted().str(), "default");
}

TEST(ConfigValue, MapKeepsInsertionOrderAndReplacesInPlace) {
  Value m = Value::map();
  m.set("b", Value::scalar("1"));
  m.set("a", Value::scalar("2"));
  m.set("b", Value::scalar("3"));
  EXPECT_EQ(m.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(m.find("b")->text(), "3");
  EXPECT_TRUE(m.erase("b"));
  EXPECT_FALSE(m.erase("b"));
  EXPECT_EQ(m.find("b"), nullptr);
  Value n;  // a null value that receives a key becomes a map
  n.set("x", Value::scalar("1"));
  EXPECT_TRUE(n.is_map());
}

TEST(ConfigValue, KindNames) {
  EXPECT_STREQ(kind_name(Value::Kind::Null), "null");
  EXPECT_STREQ(kind_name(Value::Kind::Scalar), "scalar");
  EXPECT_STREQ(kind_name(Value::Kind::List), "list");
  EXPECT_STREQ(kind_name(Value::Kind::Map), "map");
}

TEST(ConfigValue, SetOriginDeepReachesEveryNode) {
  Value v = parse_yaml_text("a: {b: [1, {c: 2}]}\n", "f.yaml");
  v.set_origin_deep(Origin::defaulted());
  EXPECT_EQ(v.find("a")->find("b")->items()[1].find("c")->origin().str(), "default");
  EXPECT_EQ(v.find("a")->key_origin().str(), "default");
}

TEST(ConfigValue, KeyOriginIsWhereTheKeyWasWritten) {
  Value v = parse_yaml_text("model:\n  layers:   4\n", "f.yaml");
  EXPECT_EQ(v.find("model")->find("layers")->key_origin().str(), "f.yaml:2:3");
  EXPECT_EQ(v.find("model")->find("layers")->origin().str(), "f.yaml:2:13");
  EXPECT_EQ(Value::scalar("x", at("g.yaml", 1, 4)).key_origin().str(), "g.yaml:1:4");  // fallback
}

TEST(ConfigValue, ScalarQuoting) {
  EXPECT_EQ(yaml_scalar("mean", false), "mean");
  EXPECT_EQ(yaml_scalar("1e-3", false), "1e-3");
  EXPECT_EQ(yaml_scalar("-1", false), "-1");
  EXPECT_EQ(yaml_scalar("/data/a b.txt", false), "/data/a b.txt");
  EXPECT_EQ(yaml_scalar("mean", true), "\"mean\"");
  EXPECT_EQ(yaml_scalar("", false), "\"\"");
  EXPECT_EQ(yaml_scalar("null", false), "\"null\"");
  EXPECT_EQ(yaml_scalar("a: b", false), "\"a: b\"");
  EXPECT_EQ(yaml_scalar("x #y", false), "\"x #y\"");
  EXPECT_EQ(yaml_scalar("[1]", false), "\"[1]\"");
  EXPECT_EQ(yaml_scalar("a,b", false), "\"a,b\"");
  EXPECT_EQ(yaml_scalar("- x", false), "\"- x\"");
  EXPECT_EQ(yaml_scalar("*ref", false), "\"*ref\"");
  EXPECT_EQ(yaml_scalar("say \"hi\"\n\ttab\\", true), "\"say \\\"hi\\\"\\n\\ttab\\\\\"");
}

TEST(ConfigValue, ToYamlUsesBlockMapsAndFlowScalarLists) {
  Value v = parse_yaml_text(
      "name: run\n"
      "model:\n"
      "  layers: 4\n"
      "  sizes: [1, 2]\n"
      "  attention: {name: mha, heads: 8}\n"
      "objective:\n"
      "  regularizers:\n"
      "    - {name: at, weight: 1.0}\n"
      "    - name: ent\n"
      "      extra: {k: [a, 'b c']}\n"
      "  empty_list: []\n"
      "  empty_map: {}\n"
      "  nothing:\n"
      "  quoted: '10'\n"
      "  nested: [[1, 2], [3]]\n",
      "r.yaml");
  EXPECT_EQ(v.to_yaml(),
            "name: run\n"
            "model:\n"
            "  layers: 4\n"
            "  sizes: [1, 2]\n"
            "  attention:\n"
            "    name: mha\n"
            "    heads: 8\n"
            "objective:\n"
            "  regularizers:\n"
            "    - name: at\n"
            "      weight: 1.0\n"
            "    - name: ent\n"
            "      extra:\n"
            "        k: [a, \"b c\"]\n"
            "  empty_list: []\n"
            "  empty_map: {}\n"
            "  nothing: null\n"
            "  quoted: \"10\"\n"
            "  nested:\n"
            "    - [1, 2]\n"
            "    - [3]\n");
}

TEST(ConfigValue, ToYamlReadsBackToTheSameTree) {
  Value v = parse_yaml_text(
      "a: {b: [1, 'x, y', \"q: r\", ~], c: 'null', d: '', e: \"tab\\there\"}\n"
      "l:\n  - {k: 1}\n  - [1]\n  - plain text\n",
      "r.yaml");
  Value back = parse_yaml_text(v.to_yaml(), "back.yaml");
  EXPECT_EQ(back.to_yaml(), v.to_yaml());
  EXPECT_EQ(back.find("a")->find("b")->items()[1].text(), "x, y");
  EXPECT_TRUE(back.find("a")->find("b")->items()[3].is_null());
  EXPECT_EQ(back.find("a")->find("c")->text(), "null");
  EXPECT_TRUE(back.find("a")->find("c")->quoted());
  EXPECT_EQ(back.find("a")->find("e")->text(), "tab\there");
}

TEST(ConfigValue, ToYamlWithOriginsAnnotatesEveryValueLine) {
  Value v =
      parse_yaml_text("train:\n  steps: 10\n  sizes: [1, 2]\nregs:\n  - {name: at}\n", "r.yaml");
  apply_overrides(v, {"train.steps=5"});
  v.find("train")->set("lr", Value::scalar("0.1", Origin::defaulted()));
  EXPECT_EQ(v.to_yaml(true),
            "train:\n"
            "  steps: 5  # command line 'train.steps=5'\n"
            "  sizes: [1, 2]  # r.yaml:3:10\n"
            "  lr: 0.1  # default\n"
            "regs:\n"
            "  - name: at  # r.yaml:5:12\n");
}

TEST(ConfigValue, ToYamlOfNonMapRoots) {
  EXPECT_EQ(Value::scalar("x").to_yaml(), "x\n");
  EXPECT_EQ(Value().to_yaml(), "null\n");
  EXPECT_EQ(Value::map().to_yaml(), "{}\n");
  EXPECT_EQ(parse_yaml_text("- {a: 1}\n", "l").to_yaml(), "- a: 1\n");
}

}  // namespace
}  // namespace attnlab::config
