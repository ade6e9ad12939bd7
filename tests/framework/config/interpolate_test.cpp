// ${env:VAR}, ${env:VAR,default} and ${key.path} interpolation: whole-scalar vs partial
// replacement, unset variables, references through lists and maps, cycles, and resolve_recipe
// running the whole pipeline in order.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config_test_util.h"
#include "framework/config/loader.h"
#include "framework/config/section.h"

namespace attnlab::config {
namespace {

using testing::ScopedEnv;
using testing::TempDir;
using testing::user_error;

Value interpolated(const std::string& yaml) {
  Value v = parse_yaml_text(yaml, "i.yaml");
  interpolate(v);
  return v;
}

TEST(ConfigInterpolate, WholeScalarKeepsItsType) {
  ScopedEnv steps("ATTNLAB_TEST_STEPS", "250");
  Value v = interpolated("steps: ${env:ATTNLAB_TEST_STEPS}\n");
  const Value& s = *v.find("steps");
  EXPECT_EQ(s.text(), "250");
  EXPECT_FALSE(s.quoted());
  EXPECT_EQ(parse_int(s), 250);
  EXPECT_EQ(s.origin().str(), "i.yaml:1:8");
}

TEST(ConfigInterpolate, PartialReplacementIsAString) {
  ScopedEnv root("ATTNLAB_TEST_ROOT", "/data");
  ScopedEnv n("ATTNLAB_TEST_N", "3");
  Value v = interpolated("path: ${env:ATTNLAB_TEST_ROOT}/digits\nn: 1${env:ATTNLAB_TEST_N}\n");
  EXPECT_EQ(v.find("path")->text(), "/data/digits");
  EXPECT_EQ(v.find("n")->text(), "13");
  EXPECT_TRUE(v.find("n")->quoted());  // concatenation makes text, never a number
  EXPECT_FALSE(parse_int(*v.find("n")));
}

TEST(ConfigInterpolate, DefaultsAreUsedOnlyWhenUnset) {
  ::unsetenv("ATTNLAB_TEST_UNSET");
  ScopedEnv empty("ATTNLAB_TEST_EMPTY", "");
  Value v = interpolated(
      "a: ${env:ATTNLAB_TEST_UNSET,5}\n"
      "b: ${env:ATTNLAB_TEST_UNSET, two words}\n"
      "c: ${env:ATTNLAB_TEST_EMPTY,x}\n"
      "d: ${env:ATTNLAB_TEST_UNSET,}\n");
  EXPECT_EQ(v.find("a")->text(), "5");
  EXPECT_EQ(parse_int(*v.find("a")), 5);
  EXPECT_EQ(v.find("b")->text(), "two words");
  EXPECT_EQ(v.find("c")->text(), "");  // set but empty counts as set
  EXPECT_EQ(v.find("d")->text(), "");
}

TEST(ConfigInterpolate, DefaultMayItselfInterpolate) {
  ::unsetenv("ATTNLAB_TEST_UNSET");
  ScopedEnv home("ATTNLAB_TEST_HOME", "/home/r");
  Value v = interpolated("dir: ${env:ATTNLAB_TEST_UNSET,${env:ATTNLAB_TEST_HOME}/data}\n");
  EXPECT_EQ(v.find("dir")->text(), "/home/r/data");
}

TEST(ConfigInterpolate, UnsetVariableNamesLocationAndVariable) {
  ::unsetenv("ATTNLAB_TEST_UNSET");
  std::string message = user_error([] {
    interpolated(
        "train:\n  steps: ${env:ATTNLAB_TEST_UNSET}\n  other: x${env:ATTNLAB_TEST_UNSET}\n");
  });
  EXPECT_EQ(
      message,
      "i.yaml:2:10: train.steps: environment variable 'ATTNLAB_TEST_UNSET' is not set (give a "
      "default with ${env:ATTNLAB_TEST_UNSET,default})\n"
      "i.yaml:3:10: train.other: environment variable 'ATTNLAB_TEST_UNSET' is not set (give a "
      "default with ${env:ATTNLAB_TEST_UNSET,default})");
}

TEST(ConfigInterpolate, QuotedScalarsAreInterpolatedAndStayStrings) {
  ScopedEnv n("ATTNLAB_TEST_N", "7");
  Value v = interpolated("a: '${env:ATTNLAB_TEST_N}'\n");
  EXPECT_EQ(v.find("a")->text(), "7");
  EXPECT_TRUE(v.find("a")->quoted());
}

TEST(ConfigInterpolate, EscapedDollarBraceIsLiteral) {
  Value v = interpolated("a: '\\${env:X} costs $5'\n");
  EXPECT_EQ(v.find("a")->text(), "${env:X} costs $5");
}

TEST(ConfigInterpolate, MalformedExpressionsAreErrors) {
  EXPECT_EQ(user_error([] { interpolated("a: ${env:X\n"); }),
            "i.yaml:1:4: a: unterminated '${' in '${env:X'");
  EXPECT_EQ(user_error([] { interpolated("a: ${oc:X}\n"); }),
            "i.yaml:1:4: a: unknown resolver 'oc' in '${oc:X}'; supported: ${env:VAR}, "
            "${env:VAR,default}, ${key.path}");
  EXPECT_EQ(user_error([] { interpolated("a: ${env:1X}\n"); }),
            "i.yaml:1:4: a: '1X' is not an environment variable name (in '${env:1X}')");
  EXPECT_EQ(
      user_error([] { interpolated("a: x${}\n"); }),
      "i.yaml:1:4: a: '${}' is not an interpolation; supported: ${env:VAR}, ${env:VAR,default}, "
      "${key.path}");
}

TEST(ConfigInterpolate, ReferencesCopyOtherKeysKeepingTheirType) {
  Value v = interpolated(
      "model:\n  d_model: 128\n  name: enc\n"
      "head:\n  width: ${model.d_model}\n  label: ${model.name}-${model.d_model}\n"
      "sizes: [4, 8]\nfirst: ${sizes.1}\n");
  EXPECT_EQ(parse_int(*v.find("head")->find("width")), 128);
  EXPECT_EQ(v.find("head")->find("width")->origin().str(), "i.yaml:5:10");
  EXPECT_EQ(v.find("head")->find("label")->text(), "enc-128");
  EXPECT_EQ(v.find("first")->text(), "8");
}

TEST(ConfigInterpolate, ReferenceToAMapCopiesTheSubtree) {
  Value v = interpolated("base: {lr: 0.1, betas: [0.9, 0.99]}\nopt: ${base}\n");
  const Value& opt = *v.find("opt");
  ASSERT_TRUE(opt.is_map());
  EXPECT_EQ(opt.find("lr")->text(), "0.1");
  EXPECT_EQ(opt.find("betas")->items().size(), 2u);
  EXPECT_EQ(opt.origin().str(), "i.yaml:2:6");
  EXPECT_EQ(user_error([] { interpolated("base: {lr: 1}\nopt: x${base}\n"); }),
            "i.yaml:2:6: opt: '${base}' is a map and cannot be part of a string");
}

TEST(ConfigInterpolate, ReferencesChainInAnyOrder) {
  ScopedEnv n("ATTNLAB_TEST_N", "3");
  Value v = interpolated("a: ${b}\nb: ${c}\nc: ${env:ATTNLAB_TEST_N}\n");
  EXPECT_EQ(v.find("a")->text(), "3");
  EXPECT_EQ(v.find("b")->text(), "3");
}

TEST(ConfigInterpolate, ReferenceCyclesAreReportedOnce) {
  EXPECT_EQ(user_error([] { interpolated("a: ${b}\nb: ${c}\nc: ${a}\n"); }),
            "i.yaml:3:4: c: interpolation cycle: a -> b -> c -> a");
  EXPECT_EQ(user_error([] { interpolated("a: ${a}\n"); }),
            "i.yaml:1:4: a: interpolation cycle: a -> a");
  EXPECT_EQ(user_error([] { interpolated("m:\n  x: ${m}\n"); }),
            "i.yaml:2:6: m.x: interpolation cycle: m.x -> m");
}

TEST(ConfigInterpolate, MissingReferenceSuggestsAKey) {
  EXPECT_EQ(
      user_error([] { interpolated("model: {layers: 2}\nx: ${model.layrs}\n"); }),
      "i.yaml:2:4: x: '${model.layrs}' refers to 'model.layrs', which does not exist (did you "
      "mean 'layers'?)");
  EXPECT_EQ(user_error([] { interpolated("l: [1]\nx: ${l.4}\n"); }),
            "i.yaml:2:4: x: '${l.4}' refers to 'l.4', which does not exist");
}

TEST(ConfigInterpolate, FailedTargetIsNotReportedAgainByItsReferrers) {
  ::unsetenv("ATTNLAB_TEST_UNSET");
  std::string message = user_error([] { interpolated("a: ${b}\nb: ${env:ATTNLAB_TEST_UNSET}\n"); });
  EXPECT_EQ(message,
            "i.yaml:2:4: b: environment variable 'ATTNLAB_TEST_UNSET' is not set (give a "
            "default with ${env:ATTNLAB_TEST_UNSET,default})");
}

TEST(ConfigInterpolate, EnvironmentValuesAreNotInterpolatedAgain) {
  ScopedEnv tricky("ATTNLAB_TEST_TRICKY", "${nope}");
  Value v = interpolated("a: ${env:ATTNLAB_TEST_TRICKY}\nb: ${a}\n");
  EXPECT_EQ(v.find("a")->text(), "${nope}");
  EXPECT_EQ(v.find("b")->text(), "${nope}");
}

TEST(ConfigResolve, IncludesThenOverridesThenInterpolation) {
  TempDir dir;
  ScopedEnv steps("ATTNLAB_TEST_STEPS", "40");
  dir.write("base.yaml", "train: {steps: 10, batch_size: 8}\n");
  std::string top = dir.write("top.yaml", "include: base.yaml\ntrain: {batch_size: 16}\n");
  Value v = resolve_recipe(
      top, {"train.steps=${env:ATTNLAB_TEST_STEPS}", "+eval.batch=${train.batch_size}"});
  EXPECT_EQ(parse_int(*v.find("train")->find("steps")), 40);
  EXPECT_EQ(v.find("train")->find("steps")->origin().str(),
            "command line 'train.steps=${env:ATTNLAB_TEST_STEPS}'");
  EXPECT_EQ(v.find("eval")->find("batch")->text(), "16");
}

}  // namespace
}  // namespace attnlab::config
