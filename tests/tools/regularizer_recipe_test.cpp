// The attention-regularizer recipe family end to end: the synthetic evidence task with the BiLSTM +
// additive attention model and Attention AT, shortened, reaches a recorded band (chance is 50%),
// and logs the adversarial term.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

// Measured 0.775 (deterministic); an untrained model is at 0.5.
constexpr double kMinValAccuracy = 0.7;

TEST(RegularizerRecipes, EvidenceWithAttentionAtReachesItsBand) {
  const std::string dir = make_temp_dir("evidence-at");
  const auto r = run_attnlab({"train", source_path("recipes/attention_at/evidence_at.yaml"), "run_dir=" + dir,
                              "train.steps=150", "train.eval_every=150", "data.train_size=600", "data.val_size=200",
                              "data.test_size=200", "data.max_length=30", "model.embed_dim=16", "model.hidden=16",
                              "model.attention_dim=16", "train.progress=none", "train.threads=1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_GT(summary.at("final").at("val").at("accuracy").get<double>(), kMinValAccuracy) << r.output;
  EXPECT_NE(read_text(dir + "/metrics.jsonl").find("\"loss/attention_at\""), std::string::npos);
}

}  // namespace
}  // namespace attnlab::testing
