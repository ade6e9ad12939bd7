// The ListOps recipes (recipes/mega/) train through the registry with mha, mega and mega-chunk,
// and bad Mega values are reported when the recipe is loaded. Short runs on small data: the
// bands were recorded from these very commands (150 steps: val accuracy 0.34-0.35 for each).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::vector<std::string> kSmall = {"train.steps=150", "train.eval_every=150", "data.max_length=60",
                                         "data.train_size=1000", "model.d_model=32", "model.layers=2",
                                         "train.threads=1"};

double val_accuracy_of(const std::string& recipe) {
  const std::string dir = make_temp_dir("listops");
  std::vector<std::string> args = {"train", source_path(recipe), "run_dir=" + dir};
  args.insert(args.end(), kSmall.begin(), kSmall.end());
  const auto r = run_attnlab(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  return summary.at("final").at("val").at("accuracy").get<double>();
}

// Chance is 0.1 (10 classes); the recorded runs reach 0.34-0.35.
TEST(ListOpsCli, TransformerReachesItsBand) { EXPECT_GE(val_accuracy_of("recipes/mega/listops_transformer.yaml"), 0.25); }
TEST(ListOpsCli, MegaReachesItsBand) { EXPECT_GE(val_accuracy_of("recipes/mega/listops_mega.yaml"), 0.25); }
TEST(ListOpsCli, MegaChunkReachesItsBand) { EXPECT_GE(val_accuracy_of("recipes/mega/listops_mega_chunk.yaml"), 0.25); }

TEST(ListOpsCli, BadMegaValuesAreReportedAtLoad) {
  const std::string dir = make_temp_dir("listops-bad");
  auto r = run_attnlab({"train", source_path("recipes/mega/listops_mega.yaml"), "run_dir=" + dir,
                        "model.attention.chunk_size=0"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("model.attention"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("chunk_size"), std::string::npos) << r.output;
  r = run_attnlab({"train", source_path("recipes/mega/listops_mega.yaml"), "run_dir=" + dir,
                   "model.attention.max_positions=100"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("max_positions is 100"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing
