// Model weights as safetensors (framework/checkpoint/weights_file.h), for every registered model
// and attention module: what one model writes another of the same recipe reads back exactly, and
// files that do not fit the model are refused without touching it. Also `train.init_weights` and
// `attnlab export` end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "framework/checkpoint/weights_file.h"
#include "framework/errors.h"
#include "framework/io/safetensors.h"
#include "framework/registry/components.h"
#include "framework/run/experiment.h"
#include "framework/run/recipe.h"
#include "tools/cli_support.h"
#include "tools/components/components.h"

namespace attnlab::testing {
namespace {

struct ModelCase {
  std::string label;
  std::string model_yaml;  // the recipe's model section
  datasets::DataSpec spec;
};

datasets::DataSpec token_spec(datasets::Task task = datasets::Task::kClassification) {
  datasets::DataSpec s;
  s.task = task;
  s.num_classes = task == datasets::Task::kClassification ? 3 : 0;
  s.vocab_size = 40;
  s.max_length = 12;
  return s;
}

datasets::DataSpec feature_spec(int64_t feature_dim) {
  datasets::DataSpec s;
  s.num_classes = 2;
  s.feature_dim = feature_dim;
  s.max_length = 16;
  return s;
}

// One case per model and, for the encoder, per attention module: a new model or attention
// registered without a case here fails EveryRegisteredComponentHasACase.
std::vector<ModelCase> cases() {
  return {
      {"encoder_classifier/mha", "{name: encoder_classifier, d_model: 16, layers: 2, attention: {name: mha, heads: 2}}",
       token_spec()},
      {"encoder_classifier/moh",
       "{name: encoder_classifier, d_model: 16, layers: 1, pooling: cls, attention: {name: moh, heads: 4, shared_heads: 1, routed_topk: 2}}",
       token_spec()},
      {"encoder_classifier/mega", "{name: encoder_classifier, d_model: 16, layers: 1, attention: {name: mega}}",
       feature_spec(4)},
      {"mega_encoder", "{name: mega_encoder, d_model: 16, layers: 1}", token_spec()},
      {"decoder_lm", "{name: decoder_lm, d_model: 16, layers: 1, attention: {name: mha, heads: 2}}",
       token_spec(datasets::Task::kLanguageModel)},
      {"bilstm_attention", "{name: bilstm_attention, embed_dim: 8, hidden: 6, attention_dim: 5}", token_spec()},
      {"abmil", "{name: abmil, encoder: linear, hidden: 8, attention_dim: 4}", feature_spec(6)},
  };
}

run::Recipe recipe_of(const std::string& model_yaml, const std::string& dir) {
  const std::string path = dir + "/r.yaml";
  write_text(path, "data: {name: digits}\nmodel: " + model_yaml + "\ntrain: {steps: 1}\n");
  return run::load_recipe(path, {});
}

models::ModelPtr build(const ModelCase& c, const std::string& dir, uint64_t seed) {
  torch::manual_seed(seed);
  return run::build_model(recipe_of(c.model_yaml, dir), c.spec);
}

// Names whose tensors differ between the two models (all of them are compared).
std::vector<std::string> differing(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto ta = checkpoint::model_tensors(a), tb = checkpoint::model_tensors(b);
  EXPECT_EQ(ta.size(), tb.size());
  std::vector<std::string> names;
  for (size_t i = 0; i < std::min(ta.size(), tb.size()); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    if (!torch::equal(ta[i].second, tb[i].second)) names.push_back(ta[i].first);
  }
  return names;
}

class WeightsInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { tools::register_all_components(); }
};

TEST_F(WeightsInterop, EveryRegisteredComponentHasACase) {
  std::set<std::string> covered;
  for (const auto& c : cases()) covered.insert(c.label.substr(0, c.label.find('/')));
  for (const auto& name : registry::models().names()) EXPECT_TRUE(covered.count(name)) << "model " << name;
  std::set<std::string> attentions;
  for (const auto& c : cases())
    if (c.label.find('/') != std::string::npos) attentions.insert(c.label.substr(c.label.find('/') + 1));
  for (const auto& name : registry::attention_modules().names())
    EXPECT_TRUE(attentions.count(name)) << "attention " << name;
}

TEST_F(WeightsInterop, EveryModelRoundTripsExactly) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.label);
    const std::string dir = make_temp_dir("weights");
    auto trained = build(c, dir, 1), fresh = build(c, dir, 2);
    // Different seeds give different weights, so equality after loading means the load worked.
    ASSERT_FALSE(differing(*trained, *fresh).empty());
    checkpoint::save_weights(*trained, dir + "/w.safetensors", {{"format", "pt"}});
    checkpoint::load_weights(*fresh, dir + "/w.safetensors");
    EXPECT_TRUE(differing(*trained, *fresh).empty());
    // The file holds exactly the model's names, parameters first, as models/README.md documents.
    const auto file = io::read_safetensors(dir + "/w.safetensors");
    std::set<std::string> in_file;
    for (const auto& [name, t] : file.tensors) in_file.insert(name);
    std::set<std::string> in_model;
    for (const auto& [name, t] : checkpoint::model_tensors(*trained)) in_model.insert(name);
    EXPECT_EQ(in_file, in_model);
  }
}

std::string load_error(torch::nn::Module& model, const std::string& path) {
  try {
    checkpoint::load_weights(model, path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST_F(WeightsInterop, FilesThatDoNotFitAreRefusedAndTheModelIsUntouched) {
  const ModelCase c = cases()[0];
  const std::string dir = make_temp_dir("weights_bad");
  auto model = build(c, dir, 1), before = build(c, dir, 1);
  auto tensors = checkpoint::model_tensors(*build(c, dir, 2));

  auto without_first = tensors;
  const std::string first = without_first.front().first;
  without_first.erase(without_first.begin());
  io::write_safetensors(dir + "/missing.safetensors", without_first);
  const std::string missing = load_error(*model, dir + "/missing.safetensors");
  EXPECT_NE(missing.find(dir + "/missing.safetensors: weights do not fit the model"), std::string::npos) << missing;
  EXPECT_NE(missing.find("missing " + first), std::string::npos) << missing;

  auto extra = tensors;
  extra.emplace_back("head.extra", torch::zeros({2}));
  io::write_safetensors(dir + "/extra.safetensors", extra);
  EXPECT_NE(load_error(*model, dir + "/extra.safetensors").find("unexpected head.extra"), std::string::npos);

  auto reshaped = tensors;
  reshaped.back().second = torch::zeros({reshaped.back().second.numel() + 1});
  io::write_safetensors(dir + "/shape.safetensors", reshaped);
  EXPECT_NE(load_error(*model, dir + "/shape.safetensors").find("mismatched " + reshaped.back().first),
            std::string::npos);

  auto doubled = tensors;
  doubled.front().second = doubled.front().second.to(torch::kFloat64);
  io::write_safetensors(dir + "/dtype.safetensors", doubled);
  EXPECT_NE(load_error(*model, dir + "/dtype.safetensors").find("file Double"), std::string::npos);

  EXPECT_TRUE(differing(*model, *before).empty()) << "a refused file changed the model";
}

// The largest absolute difference over every tensor of two safetensors files of the same model.
double max_difference(const std::string& a, const std::string& b) {
  const auto fa = io::read_safetensors(a), fb = io::read_safetensors(b);
  EXPECT_EQ(fa.tensors.size(), fb.tensors.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(fa.tensors.size(), fb.tensors.size()); ++i) {
    EXPECT_EQ(fa.tensors[i].first, fb.tensors[i].first);
    worst = std::max(worst, (fa.tensors[i].second.to(torch::kDouble) - fb.tensors[i].second.to(torch::kDouble))
                                .abs().max().item<double>());
  }
  return worst;
}

TEST_F(WeightsInterop, TrainStartsFromExportedWeights) {
  const std::string dir = make_temp_dir("init_weights");
  const std::string recipe = source_path("tests/tools/data/tiny.yaml");
  ASSERT_EQ(run_attnlab({"train", recipe, "run_dir=" + dir + "/a", "train.progress=none"}).exit_code, 0);
  const auto exported = run_attnlab({"export", dir + "/a", "--checkpoint", "last", "--output", dir + "/a.safetensors"});
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  // A learning rate too small to move anything visibly (the schema refuses 0): a run that starts
  // from the exported weights ends with them; one that starts from its own initialisation does not.
  for (const std::string& run : {"b", "c"}) {
    std::vector<std::string> args = {"train", recipe, "run_dir=" + dir + "/" + run, "train.progress=none", "optim.lr=1e-12",
                                     "train.steps=5", "seed=7"};
    if (run == "b") args.push_back("train.init_weights=" + dir + "/a.safetensors");
    const auto r = run_attnlab(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto e = run_attnlab({"export", dir + "/" + run, "--checkpoint", "last", "--output", dir + "/" + run + ".safetensors"});
    ASSERT_EQ(e.exit_code, 0) << e.output;
  }
  EXPECT_LT(max_difference(dir + "/a.safetensors", dir + "/b.safetensors"), 1e-6);
  EXPECT_GT(max_difference(dir + "/a.safetensors", dir + "/c.safetensors"), 1e-2);
  const auto missing = run_attnlab({"train", recipe, "run_dir=" + dir + "/c", "train.init_weights=" + dir + "/none.safetensors"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find(dir + "/none.safetensors"), std::string::npos) << missing.output;
  // run_info.json records what ran.
  const std::string info = read_text(dir + "/b/run_info.json");
  for (const char* key : {"\"git_commit\"", "\"libtorch\"", "\"cores\"", "\"wall_time_s\"", "\"peak_resident_mib\"",
                          "\"status\": \"completed\""})
    EXPECT_NE(info.find(key), std::string::npos) << key << " in " << info;
}

}  // namespace
}  // namespace attnlab::testing
