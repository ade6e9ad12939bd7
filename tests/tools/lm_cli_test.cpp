// The byte-level LM end to end: a short run of recipes/moh/lm_bytes_mha.yaml reaches its recorded
// bits-per-byte band, `attnlab generate` continues a prompt reproducibly from its checkpoint, and
// bad LM recipe values or run directories are one-line errors with exit code 2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

// A smaller version of the recipe: the licence texts in windows of 64 bytes, 2 blocks of width 64.
const std::vector<std::string> kShort = {"train.steps=200",  "train.eval_every=200", "data.seq_len=64",
                                         "model.d_model=64", "model.layers=2",       "train.threads=1"};

std::string train_short(const std::string& recipe, std::vector<std::string> extra = {}) {
  const std::string dir = make_temp_dir("lm");
  std::vector<std::string> args = {"train", source_path(recipe), "run_dir=" + dir};
  args.insert(args.end(), kShort.begin(), kShort.end());
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_attnlab(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir;
}

double val_bits_per_byte(const std::string& dir) {
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  return summary.at("final").at("val").at("bits_per_byte").get<double>();
}

// An untrained model needs ~8 bits per byte (uniform over 256 bytes); the band is in
// tests/CMakeLists.txt with the values the recorded runs reached.
TEST(LmCli, ByteLevelMhaReachesItsBand) {
  const std::string dir = train_short("recipes/moh/lm_bytes_mha.yaml");
  EXPECT_LE(val_bits_per_byte(dir), LM_SHORT_MAX_BITS_PER_BYTE);
}

TEST(LmCli, GenerateIsReproducibleAndStartsWithThePrompt) {
  const std::string dir = train_short("recipes/moh/lm_bytes_mha.yaml", {"train.steps=30", "train.eval_every=30"});
  const std::string prompt = "This License";
  const auto greedy = [&] {
    return run_attnlab({"generate", dir, "--prompt", prompt, "--greedy", "--max-new-tokens", "40"});
  };
  const auto a = greedy(), b = greedy();
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.output.rfind(prompt, 0), 0u) << a.output;
  EXPECT_EQ(a.output.size(), prompt.size() + 40 + 1);  // 40 bytes and a newline

  const auto sample = [&](const std::string& seed) {
    return run_attnlab({"generate", dir, "--prompt", prompt, "--max-new-tokens", "40", "--temperature", "0.8",
                        "--top-k", "20", "--seed", seed, "--checkpoint", "last"});
  };
  const auto s1 = sample("3"), s2 = sample("3"), s3 = sample("4");
  ASSERT_EQ(s1.exit_code, 0) << s1.output;
  EXPECT_EQ(s1.output, s2.output);
  EXPECT_NE(s1.output, s3.output);
  EXPECT_EQ(s1.output.rfind(prompt, 0), 0u) << s1.output;
}

TEST(LmCli, GenerateRejectsBadRunsInOneLine) {
  auto r = run_attnlab({"generate", "/nonexistent/run", "--prompt", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/run: no such run directory"), std::string::npos) << r.output;

  // A classification run has no text codec.
  const std::string dir = make_temp_dir("digits");
  r = run_attnlab({"train", source_path("tests/tools/data/tiny.yaml"), "run_dir=" + dir, "train.steps=5",
                   "train.eval_every=5"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"generate", dir, "--prompt", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  EXPECT_NE(r.output.find("the run's dataset is 'digits', not a text corpus"), std::string::npos) << r.output;

  r = run_attnlab({"generate", dir, "--prompt", "x", "--temperature", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--temperature: expected a positive number, got '0'"), std::string::npos) << r.output;
}

TEST(LmCli, BadLmRecipeValuesAreReportedAtLoad) {
  const std::string dir = make_temp_dir("lm-bad");
  const auto fails_with = [&](const std::string& recipe, const std::vector<std::string>& overrides,
                              const std::string& expected) {
    std::vector<std::string> args = {"train", source_path(recipe), "run_dir=" + dir};
    args.insert(args.end(), overrides.begin(), overrides.end());
    const auto r = run_attnlab(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
  };
  fails_with("recipes/moh/lm_bytes_mha.yaml", {"data.files=[/nonexistent/corpus.txt]"},
             "/nonexistent/corpus.txt: text file not found");
  fails_with("recipes/moh/lm_bytes_mha.yaml", {"data.val_fraction=0.000001"}, "raise val_fraction");
  fails_with("recipes/moh/lm_bytes_mha.yaml", {"model.block=mega"}, "block: mega needs the `mega` attention module");
  fails_with("recipes/mega/lm_bytes_mega.yaml", {"model.attention.max_positions=100"}, "max_positions is 100");
  fails_with("recipes/mega/lm_bytes_mega.yaml", {"model.attention.norm=batch"}, "breaks causality");
  fails_with("recipes/moh/lm_bytes_mha.yaml", {"model.name=encoder_classifier", "~model.block"},
             "encoder_classifier is a classifier");
  fails_with("recipes/moh/digits_vit_mha.yaml", {"model.name=decoder_lm", "~model.pooling"},
             "decoder_lm needs a language-model dataset");
}

}  // namespace
}  // namespace attnlab::testing
