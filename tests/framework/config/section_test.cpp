// Typed reads from a validated section, the internal errors for reads the schema does not
// allow, and where() for messages that name a key.
#include <gtest/gtest.h>

#include <stdexcept>

#include "framework/config/loader.h"
#include "framework/config/section.h"

namespace attnlab::config {
namespace {

Value tree() {
  Value v = parse_yaml_text(
      "model:\n"
      "  layers: 4\n"
      "  lr: 1e-3\n"
      "  whole: 2\n"
      "  bias: false\n"
      "  name: enc\n"
      "  sizes: [1, 2, 3]\n"
      "  betas: [0.9, 1]\n"
      "  tags: [a, b]\n"
      "  none: null\n"
      "  attention: {name: mha, heads: 8}\n"
      "  regs:\n"
      "    - {name: at}\n"
      "    - {name: ent}\n",
      "recipes/q.yaml");
  return v;
}

TEST(ConfigSection, TypedGetters) {
  Value v = tree();
  Section s(v.find("model"), "model");
  EXPECT_EQ(s.path(), "model");
  EXPECT_EQ(s.get_int("layers"), 4);
  EXPECT_DOUBLE_EQ(s.get_float("lr"), 1e-3);
  EXPECT_DOUBLE_EQ(s.get_float("whole"), 2.0);
  EXPECT_FALSE(s.get_bool("bias"));
  EXPECT_EQ(s.get_string("name"), "enc");
  EXPECT_EQ(s.get_string("layers"), "4");
  EXPECT_EQ(s.get_int_list("sizes"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(s.get_float_list("betas"), (std::vector<double>{0.9, 1.0}));
  EXPECT_EQ(s.get_string_list("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s.has("layers"));
  EXPECT_FALSE(s.has("none"));
  EXPECT_FALSE(s.has("absent"));
  EXPECT_EQ(&s.node(), v.find("model"));
}

TEST(ConfigSection, NestedSectionsCarryTheirPath) {
  Value v = tree();
  Section root(&v, "");
  Section model = root.sub("model");
  EXPECT_EQ(model.path(), "model");
  Section attention = model.sub("attention");
  EXPECT_EQ(attention.path(), "model.attention");
  EXPECT_EQ(attention.get_int("heads"), 8);
  auto regs = model.sub_list("regs");
  ASSERT_EQ(regs.size(), 2u);
  EXPECT_EQ(regs[1].path(), "model.regs.1");
  EXPECT_EQ(regs[1].get_string("name"), "ent");
}

TEST(ConfigSection, WhereNamesOriginAndPath) {
  Value v = tree();
  Section s(v.find("model"), "model");
  EXPECT_EQ(s.where("layers"), "recipes/q.yaml:2:11: model.layers");
  EXPECT_EQ(s.origin("lr").str(), "recipes/q.yaml:3:7");
  // A key that was never given is located at its section.
  EXPECT_EQ(s.where("dropout"), "recipes/q.yaml:1:1: model.dropout");
  Value bare = Value::map();
  bare.set("k", Value::scalar("1"));
  EXPECT_EQ(Section(&bare, "").where("k"), "k");
}

TEST(ConfigSection, ReadsTheSchemaDoesNotAllowAreInternalErrors) {
  Value v = tree();
  Section s(v.find("model"), "model");
  EXPECT_THROW(s.get_int("absent"), std::logic_error);
  EXPECT_THROW(s.get_int("name"), std::logic_error);
  EXPECT_THROW(s.get_int("lr"), std::logic_error);
  EXPECT_THROW(s.get_bool("layers"), std::logic_error);
  EXPECT_THROW(s.get_string("none"), std::logic_error);
  EXPECT_THROW(s.get_string("sizes"), std::logic_error);
  EXPECT_THROW(s.get_int_list("tags"), std::logic_error);
  EXPECT_THROW(s.get_float_list("name"), std::logic_error);
  EXPECT_THROW(s.sub("layers"), std::logic_error);
  EXPECT_THROW(s.sub_list("attention"), std::logic_error);
  EXPECT_THROW(s.origin("absent"), std::logic_error);
  try {
    s.get_int("name");
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.name' is not an integer"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace attnlab::config
