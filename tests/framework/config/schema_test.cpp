// Declaring schemas and validating recipe sections against them: defaults, types, ranges,
// choices, unknown and required keys, nested components and the single sorted error message.
#include <gtest/gtest.h>

#include <map>

#include "config_test_util.h"
#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/config/section.h"

namespace attnlab::config {
namespace {

using testing::user_error;

// A tiny stand-in for the registry: attention {mha, moh}, regularizer {entropy}.
struct TestComponents {
  std::map<std::pair<std::string, std::string>, Schema> schemas;
  TestComponents() {
    Schema mha("multi-head attention");
    mha.add_int("heads", 4, "number of heads").at_least(1);
    mha.add_float("dropout", 0.0, "attention dropout").at_least(0).less_than(1);
    schemas[{"attention", "mha"}] = mha;
    Schema moh("mixture of heads");
    moh.add_int("heads", 8, "heads").at_least(1);
    moh.add_int("routed_topk", 0, "routed heads per token").make_required();
    schemas[{"attention", "moh"}] = moh;
    Schema entropy("attention entropy");
    entropy.add_float("weight", 0.1, "loss weight").at_least(0);
    entropy.add_string("schedule", "constant", "weight schedule")
        .one_of({"constant", "linear", "cosine"});
    schemas[{"regularizer", "entropy"}] = entropy;
  }
  SchemaLookup lookup() const {
    SchemaLookup l;
    l.find = [this](const std::string& kind, const std::string& name) -> const Schema* {
      auto it = schemas.find({kind, name});
      return it == schemas.end() ? nullptr : &it->second;
    };
    l.names = [this](const std::string& kind) {
      std::vector<std::string> out;
      for (const auto& entry : schemas)
        if (entry.first.first == kind) out.push_back(entry.first.second);
      return out;
    };
    return l;
  }
};

Schema model_schema() {
  Schema s("encoder classifier");
  s.add_int("d_model", 64, "model width").greater_than(0);
  s.add_int("layers", 2, "number of layers").at_least(1).at_most(48);
  s.add_string("pooling", "mean", "how tokens are pooled").one_of({"mean", "cls"});
  s.add_bool("bias", true, "use biases");
  s.add_float("lr", 1e-3, "learning rate").greater_than(0);
  s.add("sizes", Type::IntList, "[1, 2]", "hidden sizes");
  s.add("betas", Type::FloatList, std::nullopt, "adam betas");
  s.add("tags", Type::StringList, "[]", "free tags");
  s.add("extra", Type::Map, "{}", "anything");
  s.add("note", Type::String, std::nullopt, "optional note");
  s.add_component("attention", "attention", "{name: mha}", "attention module");
  s.add_component_list("regularizers", "regularizer", "training regularizers");
  return s;
}

// Validates `yaml` (file "q.yaml") as a model section at path "model"; returns the problems.
std::vector<Problem> check(Value& v, const std::string& yaml) {
  static TestComponents components;
  v = parse_yaml_text(yaml, "q.yaml");
  std::vector<Problem> problems;
  validate(v, model_schema(), "model", components.lookup(), problems);
  return problems;
}

std::string one_problem(const std::string& yaml) {
  Value v;
  auto problems = check(v, yaml);
  EXPECT_EQ(problems.size(), 1u) << yaml;
  return problems.empty() ? "" : problems[0].str();
}

TEST(ConfigSchema, DefaultsAreFilledWithDefaultOrigin) {
  Value v;
  EXPECT_TRUE(check(v, "layers: 3\n").empty());
  Section s(&v, "model");
  EXPECT_EQ(s.get_int("layers"), 3);
  EXPECT_EQ(s.get_int("d_model"), 64);
  EXPECT_EQ(s.get_string("pooling"), "mean");
  EXPECT_TRUE(s.get_bool("bias"));
  EXPECT_DOUBLE_EQ(s.get_float("lr"), 1e-3);
  EXPECT_EQ(s.get_int_list("sizes"), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(s.has("betas"));  // optional without a default stays absent
  EXPECT_EQ(s.origin("d_model").str(), "default");
  EXPECT_EQ(s.origin("layers").str(), "q.yaml:1:9");
  // The nested component's own defaults are filled too.
  EXPECT_EQ(s.sub("attention").get_string("name"), "mha");
  EXPECT_EQ(s.sub("attention").get_int("heads"), 4);
}

TEST(ConfigSchema, NullMeansUseTheDefault) {
  Value v;
  EXPECT_TRUE(check(v, "layers:\nd_model: null\n").empty());
  EXPECT_EQ(Section(&v, "model").get_int("layers"), 2);
  EXPECT_EQ(Section(&v, "model").get_int("d_model"), 64);
}

TEST(ConfigSchema, UnknownKeySuggestsAndListsValidKeys) {
  // Located at the key, which is what needs fixing.
  EXPECT_EQ(one_problem("d_model: 8\n  \nlayrs: 3\n"),
            "q.yaml:3:1: model.layrs: unknown key (did you mean 'layers'?); valid keys: attention, "
            "betas, bias, d_model, extra, layers, lr, note, pooling, regularizers, sizes, tags");
  EXPECT_EQ(
      one_problem("zzz: 1\n"),
      "q.yaml:1:1: model.zzz: unknown key; valid keys: attention, betas, bias, d_model, extra, "
      "layers, lr, note, pooling, regularizers, sizes, tags");
}

TEST(ConfigSchema, TypeErrorsSayWhatWasExpectedAndGot) {
  EXPECT_EQ(one_problem("layers: ten\n"),
            "q.yaml:1:9: model.layers: expected an integer, got 'ten'");
  EXPECT_EQ(one_problem("layers: 1.5\n"),
            "q.yaml:1:9: model.layers: expected an integer, got '1.5'");
  EXPECT_EQ(one_problem("layers: '3'\n"),
            "q.yaml:1:9: model.layers: expected an integer, got the quoted string '3'");
  EXPECT_EQ(one_problem("layers: 99999999999999999999\n"),
            "q.yaml:1:9: model.layers: 99999999999999999999 does not fit in a 64-bit integer");
  EXPECT_EQ(one_problem("lr: fast\n"), "q.yaml:1:5: model.lr: expected a number, got 'fast'");
  EXPECT_EQ(one_problem("bias: yes\n"),
            "q.yaml:1:7: model.bias: expected a boolean (true or false), got 'yes'");
  EXPECT_EQ(one_problem("pooling: [a]\n"),
            "q.yaml:1:10: model.pooling: expected a string, got a list");
  EXPECT_EQ(one_problem("sizes: 3\n"),
            "q.yaml:1:8: model.sizes: expected a list of integers, got '3'");
  EXPECT_EQ(one_problem("sizes: [1, x]\n"),
            "q.yaml:1:12: model.sizes.1: expected an integer, got 'x'");
  EXPECT_EQ(one_problem("betas: [0.9, b]\n"),
            "q.yaml:1:14: model.betas.1: expected a number, got 'b'");
  EXPECT_EQ(one_problem("tags: [a, [b]]\n"),
            "q.yaml:1:11: model.tags.1: expected a string, got a list");
  EXPECT_EQ(one_problem("extra: 5\n"), "q.yaml:1:8: model.extra: expected a map, got '5'");
}

TEST(ConfigSchema, AcceptedSpellingsOfEachType) {
  Value v;
  auto problems = check(v,
                        "layers: 0x10\nd_model: +8\nlr: 1\nbias: FALSE\npooling: cls\nnote: 12\n"
                        "betas: [.9, 1e-3, 1.0e-3, .inf]\nsizes: [0o7]\nextra: {a: [1]}\n");
  EXPECT_TRUE(problems.empty()) << (problems.empty() ? "" : problems[0].str());
  Section s(&v, "model");
  EXPECT_EQ(s.get_int("layers"), 16);
  EXPECT_EQ(s.get_int("d_model"), 8);
  EXPECT_DOUBLE_EQ(s.get_float("lr"), 1.0);
  EXPECT_FALSE(s.get_bool("bias"));
  EXPECT_EQ(s.get_string("note"), "12");  // a number is fine where a string is expected
  EXPECT_EQ(s.get_int_list("sizes"), (std::vector<int64_t>{7}));
}

TEST(ConfigSchema, RangesAreCheckedWithTheirBoundKind) {
  EXPECT_EQ(one_problem("d_model: 0\n"),
            "q.yaml:1:10: model.d_model: 0 is out of range, expected > 0");
  EXPECT_EQ(one_problem("layers: 49\n"),
            "q.yaml:1:9: model.layers: 49 is out of range, expected in [1, 48]");
  EXPECT_EQ(one_problem("lr: -.inf\n"),
            "q.yaml:1:5: model.lr: -.inf is out of range, expected > 0");
  EXPECT_EQ(one_problem("attention: {name: mha, dropout: 1}\n"),
            "q.yaml:1:33: model.attention.dropout: 1 is out of range, expected in [0, 1)");
  Value v;
  EXPECT_TRUE(check(v, "layers: 48\nd_model: 1\nattention: {name: mha, dropout: 0}\n").empty());
}

TEST(ConfigSchema, OverriddenValueOutOfRangeNamesTheCommandLine) {
  Value root = parse_yaml_text("optim:\n  lr: 0.1\n", "q.yaml");
  apply_overrides(root, {"optim.lr=-1"});
  Schema optim;
  optim.add_float("lr", 1e-3, "learning rate").greater_than(0);
  std::vector<Problem> problems;
  validate(*root.find("optim"), optim, "optim", SchemaLookup{}, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].str(),
            "command line 'optim.lr=-1': optim.lr: -1 is out of range, expected > 0");
}

TEST(ConfigSchema, ChoicesSuggestANearMiss) {
  EXPECT_EQ(one_problem("pooling: maen\n"),
            "q.yaml:1:10: model.pooling: 'maen' is not one of: mean, cls (did you mean 'mean'?)");
  EXPECT_EQ(one_problem("pooling: max\n"),
            "q.yaml:1:10: model.pooling: 'max' is not one of: mean, cls");
}

TEST(ConfigSchema, RequiredKeysMustBeGiven) {
  Schema s;
  s.add_int("size", 0, "the size").make_required();
  s.add("path", Type::String, std::nullopt, "").make_required();
  Value v = parse_yaml_text("data:\n  path:\n", "r.yaml");
  std::vector<Problem> problems;
  validate(*v.find("data"), s, "data", SchemaLookup{}, problems);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].str(), "r.yaml:1:1: data.size: missing required key (the size)");
  EXPECT_EQ(problems[1].str(), "r.yaml:2:3: data.path: missing required key");
}

TEST(ConfigSchema, ComponentsAreValidatedByTheirOwnSchema) {
  Value v;
  auto problems = check(v, "attention:\n  name: moh\n  heads: 0\n  topk: 2\n");
  // Discovery order: unknown keys first, then the declared keys in schema order. A missing key
  // is located at its section (the `attention:` line).
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(
      problems[0].str(),
      "q.yaml:4:3: model.attention.topk: unknown key (did you mean 'routed_topk'?); valid keys: "
      "heads, name, routed_topk");
  EXPECT_EQ(problems[1].str(),
            "q.yaml:3:10: model.attention.heads: 0 is out of range, expected >= 1");
  EXPECT_EQ(
      problems[2].str(),
      "q.yaml:1:1: model.attention.routed_topk: missing required key (routed heads per token)");
}

TEST(ConfigSchema, UnknownComponentNameSuggestsAndListsKnownNames) {
  EXPECT_EQ(one_problem("attention: {name: mhaa}\n"),
            "q.yaml:1:19: model.attention.name: unknown attention 'mhaa' (did you mean 'mha'?); "
            "known: mha, moh");
  // A block that names no component takes the default's name; a list element has no default.
  Value v;
  EXPECT_TRUE(check(v, "attention: {heads: 2}\n").empty());
  EXPECT_EQ(v.find("attention")->find("name")->text(), "mha");
  EXPECT_EQ(v.find("attention")->find("name")->origin().str(), "default");
  EXPECT_EQ(
      one_problem("regularizers: [{weight: 2}]\n"),
      "q.yaml:1:16: model.regularizers.0.name: missing required key: which regularizer to use; "
      "known: entropy");
  EXPECT_EQ(
      one_problem("attention: [mha]\n"),
      "q.yaml:1:12: model.attention: expected a attention (a name, or a map with 'name: ...'), "
      "got a list");
}

TEST(ConfigSchema, BareComponentNameIsShorthandForAMap) {
  Value v;
  EXPECT_TRUE(check(v, "attention: moh\n").size() == 1u);  // moh needs routed_topk
  Value w;
  EXPECT_TRUE(check(w, "attention: mha\n").empty());
  const Value& attention = *w.find("attention");
  ASSERT_TRUE(attention.is_map());
  EXPECT_EQ(attention.find("name")->text(), "mha");
  EXPECT_EQ(attention.find("name")->origin().str(), "q.yaml:1:12");
  EXPECT_EQ(attention.find("heads")->text(), "4");
  EXPECT_EQ(one_problem("attention: mhaa\n"),
            "q.yaml:1:12: model.attention.name: unknown attention 'mhaa' (did you mean 'mha'?); "
            "known: mha, moh");
}

TEST(ConfigSchema, ComponentListsValidateEveryBlock) {
  Value v;
  auto problems = check(v,
                        "regularizers:\n"
                        "  - {name: entropy, weight: 0.5}\n"
                        "  - entropy\n"
                        "  - {name: entropy, schedule: cosin}\n"
                        "  - {name: entroy}\n");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].str(),
            "q.yaml:4:31: model.regularizers.2.schedule: 'cosin' is not one of: constant, linear, "
            "cosine (did you mean 'cosine'?)");
  EXPECT_EQ(problems[1].str(),
            "q.yaml:5:12: model.regularizers.3.name: unknown regularizer 'entroy' (did you mean "
            "'entropy'?); known: entropy");
  Section s(&v, "model");
  auto regs = s.sub_list("regularizers");
  ASSERT_EQ(regs.size(), 4u);
  EXPECT_EQ(regs[1].get_string("name"), "entropy");
  EXPECT_DOUBLE_EQ(regs[1].get_float("weight"), 0.1);
  EXPECT_EQ(regs[1].path(), "model.regularizers.1");
  EXPECT_EQ(
      one_problem("regularizers: entropy\n"),
      "q.yaml:1:15: model.regularizers: expected a list of regularizer blocks, got 'entropy'");
}

TEST(ConfigSchema, SectionMustBeAMap) {
  Value v = parse_yaml_text("model: [1]\n", "q.yaml");
  std::vector<Problem> problems;
  validate(*v.find("model"), model_schema(), "model", SchemaLookup{}, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].str(), "q.yaml:1:8: model: expected a map of keys, got a list");
}

TEST(ConfigSchema, UnknownKindWithoutRegistrations) {
  EXPECT_EQ(user_error([] {
              Value v = parse_yaml_text("a: {name: x}\n", "k.yaml");
              Schema s;
              s.add_component("a", "widget", std::nullopt, "");
              std::vector<Problem> problems;
              validate(v, s, "", SchemaLookup{}, problems);
              throw_if_problems(problems);
            }),
            "k.yaml:1:11: a.name: unknown widget 'x'; no widget is registered");
}

TEST(ConfigSchema, AllProblemsAreThrownTogetherSortedByFileAndLine) {
  Value v;
  auto problems = check(v, "pooling: maen\nlayers: ten\nd_model: 0\n");
  ASSERT_EQ(problems.size(), 3u);
  problems.push_back({Origin::command_line("x=1"), "x", "late"});
  std::string message = user_error([&] { throw_if_problems(problems); });
  EXPECT_EQ(message,
            "command line 'x=1': x: late\n"
            "q.yaml:1:10: model.pooling: 'maen' is not one of: mean, cls (did you mean 'mean'?)\n"
            "q.yaml:2:9: model.layers: expected an integer, got 'ten'\n"
            "q.yaml:3:10: model.d_model: 0 is out of range, expected > 0");
  EXPECT_NO_THROW(throw_if_problems({}));
}

TEST(ConfigSchema, DescribeConstraintAndTypeNames) {
  Schema s;
  EXPECT_EQ(s.add_float("a", 0.5, "").greater_than(0).describe_constraint(), "> 0");
  EXPECT_EQ(s.add_float("b", 0.5, "").at_least(0).at_most(1).describe_constraint(), "in [0, 1]");
  EXPECT_EQ(s.add_float("c", 0.5, "").greater_than(0).less_than(1).describe_constraint(),
            "in (0, 1)");
  EXPECT_EQ(s.add_float("d", 0.5, "").at_most(1e-6).describe_constraint(), "<= 1e-06");
  EXPECT_EQ(s.add_string("e", "x", "").one_of({"x", "y"}).describe_constraint(), "one of: x, y");
  EXPECT_EQ(s.add_int("f", 1, "").describe_constraint(), "");
  EXPECT_STREQ(type_name(Type::Int), "integer");
  EXPECT_STREQ(type_name(Type::Float), "number");
  EXPECT_STREQ(type_name(Type::IntList), "list of integers");
  EXPECT_STREQ(type_name(Type::ComponentList), "list of components");
}

TEST(ConfigSchema, DefaultsAreWrittenAsReadableYaml) {
  Schema s;
  EXPECT_EQ(*s.add_float("a", 1.0, "").default_yaml, "1.0");
  EXPECT_EQ(*s.add_float("b", 0.1, "").default_yaml, "0.1");
  EXPECT_EQ(*s.add_float("c", 1e-8, "").default_yaml, "1e-08");
  EXPECT_EQ(*s.add_int("d", -3, "").default_yaml, "-3");
  EXPECT_EQ(*s.add_bool("e", false, "").default_yaml, "false");
  EXPECT_EQ(*s.add_string("f", "", "").default_yaml, "\"\"");
  EXPECT_EQ(*s.add_string("g", "mean", "").default_yaml, "mean");
  EXPECT_EQ(*s.add_string("h", "null", "").default_yaml, "\"null\"");
  EXPECT_EQ(*s.add_component_list("i", "regularizer", "").default_yaml, "[]");
  EXPECT_EQ(s.find("i")->component_kind, "regularizer");
  EXPECT_EQ(s.find("zz"), nullptr);
  // Every one of them validates against its own spec and reads back as what was declared.
  Value v = Value::map();
  std::vector<Problem> problems;
  validate(v, s, "", SchemaLookup{}, problems);
  EXPECT_TRUE(problems.empty());
  Section sec(&v, "");
  EXPECT_DOUBLE_EQ(sec.get_float("c"), 1e-8);
  EXPECT_EQ(sec.get_string("f"), "");
  EXPECT_EQ(sec.get_string("h"), "null");
}

TEST(ConfigSchema, DuplicateKeyDeclarationIsAnInternalError) {
  Schema s;
  s.add_int("a", 1, "");
  EXPECT_THROW(s.add_int("a", 2, ""), std::logic_error);
}

}  // namespace
}  // namespace attnlab::config
