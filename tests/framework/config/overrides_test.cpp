// Command-line overrides: set, add, upsert, delete, list indices, YAML flow values, origins,
// and the messages for every way an override can be wrong.
#include <gtest/gtest.h>

#include "config_test_util.h"
#include "framework/config/loader.h"

namespace attnlab::config {
namespace {

using testing::user_error;

Value recipe() {
  return parse_yaml_text(
      "model:\n"
      "  layers: 4\n"
      "  d_model: 64\n"
      "objective:\n"
      "  regularizers:\n"
      "    - {name: attention_at, weight: 1.0}\n"
      "    - {name: attention_entropy, weight: 0.1}\n"
      "train: {steps: 100, sizes: [1, 2, 3]}\n",
      "q.yaml");
}

TEST(ConfigOverrides, SetReplacesAnExistingValueWithCommandLineOrigin) {
  Value v = recipe();
  apply_overrides(v, {"train.steps=5"});
  const Value& steps = *v.find("train")->find("steps");
  EXPECT_EQ(steps.text(), "5");
  EXPECT_EQ(steps.origin().str(), "command line 'train.steps=5'");
}

TEST(ConfigOverrides, SetOfAMissingKeySuggestsASiblingAndHintsAtPlus) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"model.layrs=3"}); }),
            "command line 'model.layrs=3': model.layrs: no such key (did you mean 'layers'?); "
            "use '+model.layrs=3' to add it");
}

TEST(ConfigOverrides, SetThroughAMissingParentIsAnError) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"modl.layers=3"}); }),
            "command line 'modl.layers=3': modl: no such key (did you mean 'model'?); "
            "use '+modl.layers=3' to add it");
}

TEST(ConfigOverrides, AddCreatesKeysAndIntermediateMaps) {
  Value v = recipe();
  apply_overrides(v, {"+model.dropout=0.1", "+data.name=digits"});
  EXPECT_EQ(v.find("model")->find("dropout")->text(), "0.1");
  ASSERT_TRUE(v.find("data")->is_map());
  EXPECT_EQ(v.find("data")->find("name")->text(), "digits");
  EXPECT_EQ(v.find("data")->origin().str(), "command line '+data.name=digits'");
}

TEST(ConfigOverrides, AddOfAnExistingKeyIsAnError) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"+model.layers=3"}); }),
            "command line '+model.layers=3': model.layers: already exists; use 'model.layers=3' to "
            "change it (or '++model.layers=3')");
}

TEST(ConfigOverrides, UpsertSetsOrAdds) {
  Value v = recipe();
  apply_overrides(v, {"++model.layers=8", "++model.heads=2"});
  EXPECT_EQ(v.find("model")->find("layers")->text(), "8");
  EXPECT_EQ(v.find("model")->find("heads")->text(), "2");
}

TEST(ConfigOverrides, DeleteRemovesAKeyOrAListElement) {
  Value v = recipe();
  apply_overrides(v, {"~model.d_model", "~train.sizes.0"});
  EXPECT_EQ(v.find("model")->find("d_model"), nullptr);
  ASSERT_EQ(v.find("train")->find("sizes")->items().size(), 2u);
  EXPECT_EQ(v.find("train")->find("sizes")->items()[0].text(), "2");
}

TEST(ConfigOverrides, DeleteOfAMissingKeyIsAnError) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"~model.d_modle"}); }),
            "command line '~model.d_modle': model.d_modle: no such key (did you mean 'd_model'?)");
}

TEST(ConfigOverrides, DeleteTakesNoValue) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"~model.layers=4"}); }),
            "command line '~model.layers=4': '~' deletes a key and takes no value; write "
            "'~model.layers'");
}

TEST(ConfigOverrides, ListElementsByIndexAlsoInsidePaths) {
  Value v = recipe();
  apply_overrides(v, {"train.sizes.2=30", "objective.regularizers.0.weight=0.5"});
  EXPECT_EQ(v.find("train")->find("sizes")->items()[2].text(), "30");
  const Value& reg = v.find("objective")->find("regularizers")->items()[0];
  EXPECT_EQ(reg.find("weight")->text(), "0.5");
  EXPECT_EQ(reg.find("weight")->origin().str(),
            "command line 'objective.regularizers.0.weight=0.5'");
  EXPECT_EQ(reg.find("name")->text(), "attention_at");
}

TEST(ConfigOverrides, ListIndexMustExistAndBeANonNegativeNumber) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"train.sizes.3=1"}); }),
            "command line 'train.sizes.3=1': train.sizes.3: index 3 is out of range: the list has "
            "3 items");
  EXPECT_EQ(
      user_error([&] { apply_overrides(v, {"train.sizes.-1=1"}); }),
      "command line 'train.sizes.-1=1': train.sizes.-1: '-1' is not a list index (the list has "
      "3 items, numbered from 0)");
  EXPECT_EQ(
      user_error([&] { apply_overrides(v, {"objective.regularizers.5.weight=1"}); }),
      "command line 'objective.regularizers.5.weight=1': objective.regularizers.5: index 5 is "
      "out of range: the list has 2 items");
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"+train.sizes.0=1"}); }),
            "command line '+train.sizes.0=1': train.sizes.0: '+' adds map keys; a list element is "
            "changed with 'train.sizes.0=1'");
}

TEST(ConfigOverrides, CannotGoIntoAScalar) {
  Value v = recipe();
  EXPECT_EQ(
      user_error([&] { apply_overrides(v, {"+model.layers.x=1"}); }),
      "command line '+model.layers.x=1': model.layers.x: cannot go into 'model.layers': it is "
      "a scalar, not a map or a list");
}

TEST(ConfigOverrides, ValuesAreYamlFlow) {
  Value v = recipe();
  apply_overrides(v, {"train.sizes=[1,2]", "model={a: 1, b: [x]}", "+s='quoted string'",
                      "+t=hello world", "+n=null", "+e="});
  const Value& sizes = *v.find("train")->find("sizes");
  ASSERT_TRUE(sizes.is_list());
  EXPECT_EQ(sizes.items().size(), 2u);
  EXPECT_EQ(sizes.items()[1].origin().str(), "command line 'train.sizes=[1,2]'");
  const Value& model = *v.find("model");
  ASSERT_TRUE(model.is_map());  // replaced whole, not merged
  EXPECT_EQ(model.keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(model.find("b")->origin().str(), "command line 'model={a: 1, b: [x]}'");
  EXPECT_EQ(v.find("s")->text(), "quoted string");
  EXPECT_TRUE(v.find("s")->quoted());
  EXPECT_EQ(v.find("t")->text(), "hello world");
  EXPECT_FALSE(v.find("t")->quoted());
  EXPECT_TRUE(v.find("n")->is_null());
  EXPECT_TRUE(v.find("e")->is_null());
}

TEST(ConfigOverrides, ValueMayContainEqualsSigns) {
  Value v = recipe();
  apply_overrides(v, {"+note=a=b"});
  EXPECT_EQ(v.find("note")->text(), "a=b");
}

TEST(ConfigOverrides, InvalidYamlValueIsReported) {
  Value v = recipe();
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"train.sizes=[1,"}); }),
            "command line 'train.sizes=[1,': train.sizes: value '[1,' is not valid YAML: end of "
            "sequence flow not found");
}

TEST(ConfigOverrides, MalformedOverridesNameTheOverride) {
  Value v = recipe();
  EXPECT_EQ(
      user_error([&] { apply_overrides(v, {"train.steps"}); }),
      "command line 'train.steps': expected KEY=VALUE (or +KEY=VALUE to add, ~KEY to delete)");
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"=5"}); }), "command line '=5': empty key path");
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"+=5"}); }), "command line '+=5': empty key path");
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"~"}); }), "command line '~': empty key path");
  EXPECT_EQ(user_error([&] { apply_overrides(v, {"a..b=1"}); }),
            "command line 'a..b=1': empty key in path 'a..b'");
}

TEST(ConfigOverrides, AppliedInOrderAndEveryFailureReported) {
  Value v = recipe();
  std::string message = user_error([&] {
    apply_overrides(v, {"+x={}", "+x.y=1", "model.layrs=1", "x.y=2", "~nope"});
  });
  EXPECT_EQ(message,
            "command line 'model.layrs=1': model.layrs: no such key (did you mean 'layers'?); use "
            "'+model.layrs=1' to add it\n"
            "command line '~nope': nope: no such key");
  EXPECT_EQ(v.find("x")->find("y")->text(), "2");
}

TEST(ConfigOverrides, NullIntermediateBecomesAMapForAdd) {
  Value v = parse_yaml_text("model:\n", "n.yaml");
  apply_overrides(v, {"+model.layers=2"});
  EXPECT_EQ(v.find("model")->find("layers")->text(), "2");
  Value empty;
  apply_overrides(empty, {"+a.b=1"});
  EXPECT_EQ(empty.find("a")->find("b")->text(), "1");
}

}  // namespace
}  // namespace attnlab::config
