// Reading a model's scores from the files users have (CSV, TSV, JSONL, .npy), and the one-line
// errors for the bad input the issue names: wrong column count, non-finite values, labels out of
// range, an empty calibration split.
#include <gtest/gtest.h>

#include <cmath>

#include "framework/calibration/logits_file.h"
#include "framework/io/npy.h"
#include "tests/support/files.h"
#include "tests/support/user_error.h"

namespace attnlab::calibration {
namespace {

using testing::TempDir;
using testing::user_error_of;
using testing::write_file;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(LogitsFile, CsvColumnsAreClassesInFileOrderWithSoftmaxedLogits) {
  TempDir dir;
  const auto path = write_file(dir, "out.csv", "A,label,B,split,C\n2.0,0,0.0,cal,0.0\n0,2,0,test,1\n");
  const auto e = read_scored_examples(path, {});
  ASSERT_EQ(e.probs.sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(e.class_names, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(e.splits, (std::vector<std::string>{"cal", "test"}));
  EXPECT_TRUE(e.labels.equal(torch::tensor({0, 2}, torch::kLong)));
  const double z = std::exp(2.0) + 2.0;
  EXPECT_NEAR(e.probs[0][0].item<double>(), std::exp(2.0) / z, 1e-12);
  LogitsFileOptions hot;
  hot.temperature = 2.0;
  EXPECT_NEAR(read_scored_examples(path, hot).probs[0][0].item<double>(), std::exp(1.0) / (std::exp(1.0) + 2.0),
              1e-12);
  const auto cal = select_split(e, "cal", path);
  EXPECT_EQ(cal.labels.size(0), 1);
  EXPECT_EQ(cal.labels[0].item<int64_t>(), 0);
}

TEST(LogitsFile, JsonlAndNpyGiveTheSameExamples) {
  TempDir dir;
  const auto jsonl = write_file(dir, "out.jsonl",
                                "{\"logits\": [1.0, 0.5, -1.0], \"label\": 1}\n\n{\"logits\": [0, 0, 3], \"label\": 2}\n");
  const auto a = read_scored_examples(jsonl, {});
  io::write_npy(dir / "logits.npy", torch::tensor({1.0, 0.5, -1.0, 0.0, 0.0, 3.0}, torch::kFloat64).view({2, 3}));
  io::write_npy(dir / "labels.npy", torch::tensor({1, 2}, torch::kLong));
  LogitsFileOptions npy;
  npy.labels_path = dir / "labels.npy";
  const auto b = read_scored_examples(dir / "logits.npy", npy);
  EXPECT_TRUE(a.probs.allclose(b.probs));
  EXPECT_TRUE(a.labels.equal(b.labels));
  EXPECT_TRUE(a.splits.empty());
}

TEST(LogitsFile, ProbabilitiesAreCheckedNotSoftmaxed) {
  TempDir dir;
  LogitsFileOptions probs;
  probs.values = "probs";
  const auto ok = write_file(dir, "p.csv", "label,a,b\n1,0.25,0.75\n");
  EXPECT_NEAR(read_scored_examples(ok, probs).probs[0][1].item<double>(), 0.75, 1e-15);
  const auto bad = write_file(dir, "q.csv", "label,a,b\n1,0.25,0.75\n0,0.5,0.3\n");
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(bad, probs); }), "q.csv:3: probabilities sum to 0.8"));
}

TEST(LogitsFile, BadRowsNameTheFileLineAndProblem) {
  TempDir dir;
  auto error_of_csv = [&](const std::string& text) {
    const auto path = write_file(dir, "bad.csv", text);
    return user_error_of([&] { read_scored_examples(path, {}); });
  };
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n0,1,2\n1,3\n"), "bad.csv:3: expected 3 columns (as the header), got 2"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n0,nan,2\n"), "bad.csv:2: column 'a': 'nan' is not a finite number"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n0,inf,2\n"), "bad.csv:2: column 'a': 'inf' is not a finite number"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n0,x,2\n"), "bad.csv:2: column 'a': 'x' is not a number"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n2,1,2\n"), "bad.csv:2: label 2 is outside 0..1"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n-1,1,2\n"), "bad.csv:2: label -1 is outside 0..1"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n0.5,1,2\n"), "bad.csv:2: column 'label': label '0.5' is not an integer"));
  EXPECT_TRUE(contains(error_of_csv("y,a,b\n0,1,2\n"), "bad.csv:1: the header has no 'label' column"));
  EXPECT_TRUE(contains(error_of_csv("label,a,b\n"), "bad.csv: no rows"));

  const auto jsonl = write_file(dir, "bad.jsonl", "{\"logits\": [1, 2], \"label\": 0}\n{\"logits\": [1, 2, 3], \"label\": 0}\n");
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(jsonl, {}); }), "bad.jsonl:2: 3 logits values, but the first row has 2"));
  const auto jsonl_nan = write_file(dir, "nan.jsonl", "{\"logits\": [1, NaN], \"label\": 0}\n");
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(jsonl_nan, {}); }), "nan.jsonl:1: not valid JSON"));

  io::write_npy(dir / "l.npy", torch::tensor({1.0, std::nan(""), 0.0, 1.0}, torch::kFloat64).view({2, 2}));
  io::write_npy(dir / "y.npy", torch::tensor({0, 1}, torch::kLong));
  LogitsFileOptions npy;
  npy.labels_path = dir / "y.npy";
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(dir / "l.npy", npy); }), "l.npy: row 0, column 1: non-finite value"));
  io::write_npy(dir / "l.npy", torch::zeros({2, 2}, torch::kFloat64));
  io::write_npy(dir / "y.npy", torch::tensor({0, 5}, torch::kLong));
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(dir / "l.npy", npy); }), "y.npy: row 1: label 5 is outside 0..1"));
  io::write_npy(dir / "y.npy", torch::tensor({0}, torch::kLong));
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(dir / "l.npy", npy); }), "y.npy: expected 2 labels"));
  EXPECT_TRUE(contains(user_error_of([&] { read_scored_examples(dir / "l.npy", {}); }), "needs its labels in a second .npy"));
}

TEST(LogitsFile, AnEmptyCalibrationSplitIsAnError) {
  TempDir dir;
  const auto path = write_file(dir, "s.csv", "label,split,a,b\n0,test,1,2\n1,test,0,0\n");
  const auto e = read_scored_examples(path, {});
  EXPECT_TRUE(contains(user_error_of([&] { select_split(e, "cal", path); }),
                       "s.csv: split 'cal' is empty (the split column holds: test)"));
  EXPECT_TRUE(contains(user_error_of([&] { random_split(e, 0.1, 0); }), "leaves an empty split"));
}

TEST(LogitsFile, RandomSplitIsSeededAndDisjoint) {
  ScoredExamples all;
  all.probs = torch::softmax(torch::randn({100, 4}, torch::kFloat64), 1);
  all.labels = torch::arange(100, torch::kLong) % 4;
  const auto [cal, test] = random_split(all, 0.5, 42);
  const auto [cal2, test2] = random_split(all, 0.5, 42);
  EXPECT_EQ(cal.labels.size(0), 50);
  EXPECT_TRUE(cal.probs.equal(cal2.probs));
  EXPECT_TRUE(torch::cat({cal.probs, test.probs}).sum(0).allclose(all.probs.sum(0)));
  const auto [cal3, test3] = random_split(all, 0.5, 7);
  EXPECT_FALSE(cal.probs.equal(cal3.probs));
}

}  // namespace
}  // namespace attnlab::calibration
