// The component catalog: adding, finding, sorted names and kinds, duplicates as internal errors,
// and the SchemaLookup it gives recipe validation.
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include "framework/config/loader.h"
#include "framework/config/schema.h"
#include "framework/registry/catalog.h"

namespace attnlab::registry {
namespace {

config::Schema heads_schema(int64_t heads) {
  config::Schema s;
  s.add_int("heads", heads, "number of heads").at_least(1);
  return s;
}

TEST(RegistryCatalog, AddFindNamesAndKinds) {
  Catalog catalog;
  catalog.add({"attention", "moh", "mixture of heads", heads_schema(8)});
  catalog.add({"attention", "mha", "multi-head", heads_schema(4)});
  catalog.add({"dataset", "digits", "8x8 digits", config::Schema{}});
  const ComponentInfo* mha = catalog.find("attention", "mha");
  ASSERT_NE(mha, nullptr);
  EXPECT_EQ(mha->doc, "multi-head");
  EXPECT_EQ(*mha->schema.find("heads")->default_yaml, "4");
  EXPECT_EQ(catalog.find("attention", "mhaa"), nullptr);
  EXPECT_EQ(catalog.find("model", "mha"), nullptr);
  EXPECT_EQ(catalog.names("attention"), (std::vector<std::string>{"mha", "moh"}));
  EXPECT_TRUE(catalog.names("optimizer").empty());
  EXPECT_EQ(catalog.kinds(), (std::vector<std::string>{"attention", "dataset"}));
}

TEST(RegistryCatalog, DuplicateIsAnInternalError) {
  Catalog catalog;
  catalog.add({"attention", "mha", "", config::Schema{}});
  EXPECT_THROW(catalog.add({"attention", "mha", "", config::Schema{}}), c10::Error);
  catalog.add({"model", "mha", "", config::Schema{}});  // same name, other kind: fine
  EXPECT_EQ(catalog.names("model").size(), 1u);
}

TEST(RegistryCatalog, LookupValidatesComponentsAgainstTheCatalog) {
  Catalog catalog;
  catalog.add({"attention", "mha", "", heads_schema(4)});
  catalog.add({"attention", "moh", "", heads_schema(8)});
  config::Schema model;
  model.add_component("attention", "attention", "{name: mha}", "attention module");

  config::Value ok = config::parse_yaml_text("attention: moh\n", "q.yaml");
  std::vector<config::Problem> problems;
  config::validate(ok, model, "model", catalog.lookup(), problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(ok.find("attention")->find("heads")->text(), "8");

  config::Value bad = config::parse_yaml_text("attention:\n  name: mhaa\n", "recipes/q.yaml");
  config::validate(bad, model, "model", catalog.lookup(), problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].str(),
            "recipes/q.yaml:2:9: model.attention.name: unknown attention 'mhaa' (did you mean "
            "'mha'?); known: mha, moh");
}

TEST(RegistryCatalog, LookupSeesComponentsAddedLater) {
  Catalog catalog;
  config::SchemaLookup lookup = catalog.lookup();
  EXPECT_EQ(lookup.find("attention", "mha"), nullptr);
  catalog.add({"attention", "mha", "", heads_schema(4)});
  const config::Schema* schema = lookup.find("attention", "mha");
  ASSERT_NE(schema, nullptr);
  catalog.add({"attention", "a", "", config::Schema{}});  // later additions keep the pointer valid
  EXPECT_EQ(lookup.find("attention", "mha"), schema);
  EXPECT_EQ(lookup.names("attention"), (std::vector<std::string>{"a", "mha"}));
}

TEST(RegistryCatalog, GlobalIsOneInstance) {
  // Registrations from every folder's static initialisers must land in the same catalog.
  EXPECT_EQ(&Catalog::global(), &Catalog::global());
}

}  // namespace
}  // namespace attnlab::registry
