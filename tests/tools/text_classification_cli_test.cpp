// The text_classification dataset through the command line: a few steps of bilstm_attention on a
// generated CSV with a word-vectors file (its coverage line printed, its width checked against the
// model's), and a malformed row reported as one line naming file:line with exit code 2.
#include <gtest/gtest.h>

#include <string>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

// 48 rows of 2 classes, a quoted comma in every 5th text; vectors of dim 8 for a few words.
std::string make_data(const std::string& dir) {
  std::string csv = "label,text\n";
  const char* pos[] = {"great", "fun", "superb", "moving"};
  const char* neg[] = {"dull", "awful", "boring", "weak"};
  for (int i = 0; i < 48; ++i) {
    const bool p = i % 2 == 0;
    std::string text = std::string("the film was ") + (p ? pos[i % 4] : neg[i % 4]) + " and " +
                       (p ? pos[(i / 2) % 4] : neg[(i / 2) % 4]);
    if (i % 5 == 0) text = "\"" + text + ", really\"";
    csv += std::string(p ? "pos" : "neg") + "," + text + "\n";
  }
  write_text(dir + "/train.csv", csv);
  write_text(dir + "/vectors.vec",
             "3 8\ngreat 1 1 1 1 1 1 1 1\ndull -1 -1 -1 -1 -1 -1 -1 -1\nfilm 0 0 0 0 0 0 0 1\n");
  const std::string recipe =
      "name: tc\n"
      "data: {name: text_classification, train: " + dir + "/train.csv, val_fraction: 0.25, labels: [neg, pos],\n"
      "       embeddings: " + dir + "/vectors.vec}\n"
      "model: {name: bilstm_attention, embed_dim: 8, hidden: 8, attention_dim: 8}\n"
      "optim: {name: adam, lr: 1.0e-2}\n"
      "train: {steps: 6, batch_size: 8, eval_every: 6, threads: 1, progress: none}\n"
      "eval: {test_split: \"\", metrics: [accuracy, auroc]}\n"
      "checkpoint: {monitor: val/auroc}\n";
  write_text(dir + "/tc.yaml", recipe);
  return dir + "/tc.yaml";
}

TEST(TextClassificationCli, TrainsBiLstmWithPretrainedVectors) {
  const std::string dir = make_temp_dir("text-classification");
  const std::string recipe = make_data(dir);
  auto r = run_attnlab({"train", recipe, "run_dir=" + dir + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // great, dull and film of the 14 words (the, film, was, and, 8 adjectives, ",", really).
  EXPECT_NE(r.output.find("embeddings: 3 of 14 words found in " + dir + "/vectors.vec (dim 8)"), std::string::npos)
      << r.output;
  EXPECT_NE(read_text(dir + "/run/metrics.jsonl").find("\"auroc\""), std::string::npos);

  // The vectors reach the model: a model narrower than the file is refused, naming both widths.
  r = run_attnlab({"train", recipe, "run_dir=" + dir + "/run16", "model.embed_dim=16"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("set the model's embedding width to the file's vector size"), std::string::npos) << r.output;
}

TEST(TextClassificationCli, MalformedRowIsOneLineNamingFileAndLine) {
  const std::string dir = make_temp_dir("text-classification");
  const std::string recipe = make_data(dir);
  write_text(dir + "/train.csv", read_text(dir + "/train.csv") + "pos,\"never closed\n");
  const auto r = run_attnlab({"train", recipe, "run_dir=" + dir + "/run"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
  EXPECT_NE(r.output.find(dir + "/train.csv:50: quoted field opened here is never closed"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace attnlab::testing
