// `attnlab train` end to end: the non-finite guard, the run directory's files, eval, and the
// quickstart recipe's accuracy band.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "framework/logging/tensorboard.h"

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

const std::string kTiny = source_path("tests/tools/data/tiny.yaml");

std::vector<nlohmann::json> records(const std::string& run_dir, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(read_text(run_dir + "/metrics.jsonl"))) {
    auto j = nlohmann::json::parse(line);
    if (j.at("kind") == kind) out.push_back(j);
  }
  return out;
}

TEST(TrainCli, WritesTheRunDirectory) {
  const std::string dir = make_temp_dir("files");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"recipe.yaml", "recipe.provenance.yaml", "metrics.jsonl", "summary.json",
                        "checkpoints/best.json", "checkpoints/step_000000060/manifest.json"})
    EXPECT_FALSE(read_text(dir + "/" + f).empty()) << f;
  const auto train = records(dir, "train");
  ASSERT_EQ(train.size(), 12u);  // every 5 of 60 steps
  for (const char* key : {"loss", "loss/task", "lr", "grad_norm", "epoch"}) EXPECT_TRUE(train[0].contains(key)) << key;
  const auto evals = records(dir, "eval");
  ASSERT_EQ(evals.size(), 3u);  // steps 20, 40, 60
  EXPECT_TRUE(evals[0].contains("accuracy"));
  EXPECT_TRUE(evals[0].contains("macro_f1"));
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("status"), "completed");
  EXPECT_TRUE(summary.at("final").contains("test"));
  EXPECT_NE(r.output.find("final test: loss"), std::string::npos) << r.output;
  EXPECT_NE(read_text(dir + "/recipe.provenance.yaml").find("tiny.yaml:"), std::string::npos);
  // Retention: the last two plus the best.
  const auto best = nlohmann::json::parse(read_text(dir + "/checkpoints/best.json"));
  EXPECT_EQ(best.at("monitor"), "val/accuracy");
}

TEST(TrainCli, EvalReloadsTheBestCheckpoint) {
  const std::string dir = make_temp_dir("eval");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"eval", dir, "--split", "val", "--json", "--checkpoint", "last"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(lines_of(r.output).back());
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  // The last checkpoint holds the final weights, so eval reproduces the final val metrics.
  EXPECT_DOUBLE_EQ(j.at("accuracy").get<double>(), summary.at("final").at("val").at("accuracy").get<double>());
  EXPECT_NEAR(j.at("loss").get<double>(), summary.at("final").at("val").at("loss").get<double>(), 1e-9);
  r = run_attnlab({"eval", dir + "/checkpoints/step_000000060", "--split", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no split 'nope'"), std::string::npos) << r.output;

  // The attention measures: the digits ViT's last layer by default (no rationale on digits).
  const auto& a = j.at("attention");
  EXPECT_EQ(a.at("site"), "layer0");
  EXPECT_GT(a.at("attention_entropy").get<double>(), 0.0);
  EXPECT_EQ(a.at("gradient_pearson_n").get<int64_t>(), j.at("examples").get<int64_t>());
  EXPECT_FALSE(a.contains("rationale_auprc"));
  r = run_attnlab({"eval", dir, "--site", "layer7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--site: the model has no attention site 'layer7'; it has: layer0"), std::string::npos)
      << r.output;
  r = run_attnlab({"eval", dir, "--no-attention", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(nlohmann::json::parse(lines_of(r.output).back()).contains("attention"));
}

TEST(TrainCli, NonFiniteLossIsSkippedAndCounted) {
  const std::string dir = make_temp_dir("nan1");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "debug.nan_loss_at_steps=[3, 7]"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: step 3 skipped"), std::string::npos) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("skipped_steps"), 2);
  EXPECT_EQ(records(dir, "train").back().at("skipped_steps"), 2);
  // The weights stayed finite: the final evaluation is a number.
  EXPECT_TRUE(std::isfinite(summary.at("final").at("val").at("loss").get<double>()));
}

TEST(TrainCli, RepeatedNonFiniteStepsStopTheRunNamingAParameter) {
  const std::string dir = make_temp_dir("nan2");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "debug.nan_loss_at_steps=[4, 5, 6]",
                              "train.max_nonfinite_in_row=3"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("stopping at step 6: 3 steps in a row had a non-finite loss or gradient"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("first parameter whose gradient went non-finite: embed.weight"), std::string::npos)
      << r.output;
  EXPECT_EQ(nlohmann::json::parse(read_text(dir + "/summary.json")).at("status"), "diverged");
}

TEST(TrainCli, QuickstartShortRunReachesItsAccuracyBand) {
  // 300 of the quickstart's 1500 steps; the band was recorded from this command (see README).
  const std::string dir = make_temp_dir("quick");
  const auto r = run_attnlab({"train", source_path("recipes/quickstart.yaml"), "run_dir=" + dir,
                              "train.steps=300", "train.eval_every=100", "train.threads=1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  const double acc = summary.at("final").at("test").at("accuracy").get<double>();
  EXPECT_GE(acc, QUICKSTART_SHORT_MIN_ACCURACY) << r.output;
  EXPECT_LE(acc, 1.0);
}

}  // namespace
}  // namespace attnlab::testing

namespace attnlab::testing {
namespace {

TEST(TrainCli, EpochsModeEvaluatesOncePerEpoch) {
  // 1259 training digits in batches of 64 with drop_last: 19 steps an epoch.
  const std::string dir = make_temp_dir("epochs");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=0", "train.epochs=2",
                              "train.batch_size=64", "train.eval_every=0"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("steps"), 38);
  const auto evals = records(dir, "eval");
  ASSERT_EQ(evals.size(), 2u);
  EXPECT_EQ(evals[0].at("step"), 19);
  EXPECT_EQ(evals[1].at("step"), 38);
}

TEST(TrainCli, GradientAccumulationMatchesTheLargerBatch) {
  // Two micro-batches of 8 read the same 16 examples as one batch of 16 (the order does not
  // depend on the batch size) and average the same loss, so the weights agree to rounding.
  // SGD, because Adam's normalisation would blow up rounding noise in gradients that are zero
  // in exact arithmetic (the key projection's bias).
  const std::vector<std::string> common = {"train.steps=5", "model.dropout=0.0", "train.drop_last=false",
                                           "train.eval_every=5", "optim.name=sgd", "optim.lr=0.1"};
  const std::string a = make_temp_dir("accum"), b = make_temp_dir("big");
  std::vector<std::string> args = {"train", kTiny, "run_dir=" + a, "train.batch_size=8", "train.grad_accum=2"};
  args.insert(args.end(), common.begin(), common.end());
  ASSERT_EQ(run_attnlab(args).exit_code, 0);
  args = {"train", kTiny, "run_dir=" + b, "train.batch_size=16"};
  args.insert(args.end(), common.begin(), common.end());
  ASSERT_EQ(run_attnlab(args).exit_code, 0);
  std::string why;
  EXPECT_TRUE(archives_close(a + "/checkpoints/step_000000005/model.pt", b + "/checkpoints/step_000000005/model.pt",
                             1e-5, &why))
      << why;
  // And accumulation is not a no-op: one micro-batch of 8 per step gives other weights.
  const std::string c = make_temp_dir("small");
  args = {"train", kTiny, "run_dir=" + c, "train.batch_size=8"};
  args.insert(args.end(), common.begin(), common.end());
  ASSERT_EQ(run_attnlab(args).exit_code, 0);
  EXPECT_FALSE(archives_close(a + "/checkpoints/step_000000005/model.pt", c + "/checkpoints/step_000000005/model.pt",
                              1e-5, &why));
}

TEST(TrainCli, GradientNormIsClippedButLoggedUnclipped) {
  const std::string dir = make_temp_dir("clip");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.grad_clip=0.01", "train.steps=10"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& rec : records(dir, "train")) EXPECT_GT(rec.at("grad_norm").get<double>(), 0.01);
}

TEST(TrainCli, EarlyStoppingStopsAfterPatienceEvaluations) {
  // With lr 0 nothing improves after the first evaluation.
  const std::string dir = make_temp_dir("early");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "optim.lr=1e-12", "train.eval_every=5",
                              "early_stopping.enabled=true", "early_stopping.patience=2",
                              "early_stopping.monitor=val/loss", "early_stopping.min_delta=0.01"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary.at("status"), "early_stopped");
  EXPECT_EQ(summary.at("steps"), 15);  // best at 5, no improvement at 10 and 15
  EXPECT_NE(r.output.find("early stopping: val/loss has not improved for 2 evaluations"), std::string::npos);
}

}  // namespace
}  // namespace attnlab::testing

namespace attnlab::testing {
namespace {

TEST(TrainCli, MohTrainsThroughTheRegistryAndLogsItsBalanceLoss) {
  const std::string dir = make_temp_dir("moh");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=100", "train.eval_every=50",
                              "model.attention={name: moh, heads: 4, shared_heads: 1, routed_topk: 2}"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto train = records(dir, "train");
  ASSERT_FALSE(train.empty());
  ASSERT_TRUE(train.back().contains("loss/moh_balance")) << train.back().dump();
  // Uniform routing gives K = 2; a trained router stays near it (the loss keeps it balanced).
  EXPECT_NEAR(train.back().at("loss/moh_balance").get<double>(), 2.0, 0.5);
  // Routing statistics: 1 shared + top-2 of 3 routed heads = 3/4 of the heads per token, on
  // average over layers and per layer; the shared head serves every token.
  for (const auto& record : {train.back(), records(dir, "eval").back()}) {
    EXPECT_NEAR(record.at("attention/moh_active_fraction").get<double>(), 0.75, 1e-6) << record.dump();
  }
  const auto usage = train.back().at("attention/layer0/moh_head_usage").get<std::vector<double>>();
  ASSERT_EQ(usage.size(), 4u);
  EXPECT_NEAR(usage[0], 1.0, 1e-6);
  EXPECT_NEAR(usage[1] + usage[2] + usage[3], 2.0, 1e-5);
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_GT(summary.at("final").at("val").at("accuracy").get<double>(), 0.5);  // chance is 0.1
}

TEST(TrainCli, AMetricOfAnotherTaskIsRejectedBeforeAnythingIsWritten) {
  const std::string dir = make_temp_dir("metric-task") + "/run";
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "eval.metrics=[accuracy, perplexity]"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("eval.metrics: 'perplexity' does not apply to this dataset, whose task is "
                          "classification; metrics for it: accuracy auroc macro_f1"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir)) << "a recipe that fails to build must leave no run directory";

  // A test split the dataset lacks fails at the start, not after training.
  const auto t = run_attnlab({"train", kTiny, "run_dir=" + dir, "eval.test_split=heldout"});
  EXPECT_EQ(t.exit_code, 2) << t.output;
  EXPECT_NE(t.output.find("eval.test_split: the dataset has no split 'heldout'"), std::string::npos) << t.output;
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(TrainCli, AttentionRegularizersTrainAndAreLoggedByName) {
  const std::string dir = make_temp_dir("regularizers");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=20", "train.eval_every=20",
                              "objective.regularizers=[{name: attention_at, epsilon: 1.0}, "
                              "{name: attention_entropy, weight: 0.1, schedule: cosine}]"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto last = records(dir, "train").back();
  EXPECT_GT(last.at("loss/attention_at").get<double>(), 0.0) << last.dump();
  EXPECT_LT(last.at("loss/attention_entropy").get<double>(), 0.0) << last.dump();  // minus an entropy

  const auto bad = run_attnlab({"train", kTiny, "run_dir=" + dir + "/bad",
                                "objective.regularizers=[{name: attention_iat, mode: paper}]"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("objective.regularizers.0.mode: 'paper' is not one of"), std::string::npos) << bad.output;
}

TEST(TrainCli, MohOptionErrorsNameTheRecipeSection) {
  const std::string dir = make_temp_dir("moh-bad");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir,
                              "model.attention={name: moh, heads: 4, shared_heads: 1, routed_topk: 5}"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("model.attention: moh: routed_topk=5"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing

namespace attnlab::testing {
namespace {

TEST(TrainCli, TensorBoardEventsMirrorTheMetricsLog) {
  const std::string dir = make_temp_dir("tb");
  const auto r = run_attnlab({"train", kTiny, "run_dir=" + dir});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string events;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) events = e.path().string();
  ASSERT_FALSE(events.empty());
  const auto scalars = logging::read_tensorboard_scalars(events);
  std::map<std::pair<std::string, int64_t>, double> by_tag;
  for (const auto& s : scalars) by_tag[{s.tag, s.step}] = s.value;
  for (const auto& rec : records(dir, "train")) {
    const auto key = std::make_pair(std::string("train/loss"), rec.at("step").get<int64_t>());
    ASSERT_TRUE(by_tag.count(key)) << rec.dump();
    EXPECT_FLOAT_EQ(static_cast<float>(by_tag[key]), static_cast<float>(rec.at("loss").get<double>()));
  }
  for (const auto& rec : records(dir, "eval"))
    EXPECT_TRUE(by_tag.count({"val/accuracy", rec.at("step").get<int64_t>()})) << rec.dump();
}

}  // namespace
}  // namespace attnlab::testing

#include "framework/io/safetensors.h"

namespace attnlab::testing {
namespace {

TEST(ExportCli, WritesTheTrainedWeightsAsSafetensors) {
  const std::string dir = make_temp_dir("export");
  auto r = run_attnlab({"train", kTiny, "run_dir=" + dir, "train.steps=20", "train.eval_every=20"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_attnlab({"export", dir, "--checkpoint", "last"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto file = io::read_safetensors(dir + "/model.safetensors");
  std::map<std::string, torch::Tensor> by_name(file.tensors.begin(), file.tensors.end());
  ASSERT_TRUE(by_name.count("embed.weight"));
  ASSERT_TRUE(by_name.count("head.weight"));
  EXPECT_EQ(by_name["head.weight"].sizes(), (std::vector<int64_t>{10, 16}));  // 10 digits, d_model 16
  EXPECT_EQ(file.metadata.at("attnlab.checkpoint"), dir + "/checkpoints/step_000000020");
  EXPECT_NE(file.metadata.at("attnlab.recipe").find("encoder_classifier"), std::string::npos);
  // The exported head equals the checkpoint's.
  torch::serialize::InputArchive archive, head;
  archive.load_from(dir + "/checkpoints/step_000000020/model.pt");
  ASSERT_TRUE(archive.try_read("head", head));
  torch::Tensor w;
  head.read("weight", w);
  EXPECT_TRUE(torch::equal(w, by_name["head.weight"]));

  r = run_attnlab({"export", dir, "--format", "onnx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("only safetensors is supported"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing
