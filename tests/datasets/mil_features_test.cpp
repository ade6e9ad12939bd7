// The reader of precomputed MIL instance features: a good file (comma and tab, bags interleaved,
// with and without instance labels) loads into the documented bags and batches; malformed rows
// are DataErrors naming file:line.
#include "datasets/mil_features.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace attnlab::datasets {
namespace {

using attnlab::testing::TempDir;
using attnlab::testing::write_file;

std::string error_of(const std::string& path) {
  try {
    read_mil_features(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST(MilFeatures, ReadsBagsInFirstAppearanceOrder) {
  TempDir dir;
  const auto train = write_file(dir, "train.csv",
                           "bag_id,label,instance_label,f1,f2\n"
                           "slide_a,1,0,0.5,1\n"
                           "slide_b,0,0,-2,3e-1\r\n"
                           "\n"
                           "slide_a,1,1,4,5\n");
  const auto test = write_file(dir, "test.tsv", "bag_id\tlabel\tx\ty\nq\t1\t1\t2\n");
  const auto file = read_mil_features(train);
  ASSERT_EQ(file.bags.size(), 2u);
  EXPECT_EQ(file.bags[0].rows, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(file.bags[0].instance_labels, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(file.bags[1].label, 0);
  EXPECT_TRUE(torch::allclose(file.instances, torch::tensor({0.5f, 1.f, -2.f, 0.3f, 4.f, 5.f}).view({3, 2})));

  const MilFeaturesDataset data(MilFeaturesOptions{train, "", test, 0});
  EXPECT_EQ(data.split_names(), (std::vector<std::string>{"train", "test"}));
  EXPECT_EQ(data.spec().num_classes, 2);
  EXPECT_EQ(data.spec().feature_dim, 2);
  EXPECT_EQ(data.spec().max_length, 2);
  const Batch b = data.split("train")->batch({1, 0});
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{2, 2, 2}));
  EXPECT_TRUE(torch::equal(b.padding_mask, torch::tensor({false, true, false, false}).view({2, 2})));
  EXPECT_TRUE(torch::equal(b.rationale, torch::tensor({0L, 0L, 0L, 1L}).view({2, 2})));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({0L, 1L})));
  EXPECT_FALSE(data.split("test")->batch({0}).rationale.defined());
  EXPECT_THROW(data.split("val"), DataError);
}

TEST(MilFeatures, MalformedRowsNameFileAndLine) {
  TempDir dir;
  const std::string h = "bag_id,label,instance_label,f1,f2\n";
  const auto expect_error = [&](const std::string& text, const std::string& want) {
    const auto path = write_file(dir, "bad.csv", text);
    EXPECT_EQ(error_of(path), path + want);
  };
  expect_error("id,label,f1\na,1,2\n", ":1: expected a header starting 'bag_id,label' (then instance_label, then the "
                                      "feature columns), got 'id,label,f1'");
  expect_error("bag_id,label,instance_label\n", ":1: the header names no feature column");
  expect_error(h + "a,1,0,1\n", ":2: expected 5 columns (as the header), got 4");
  expect_error(h + "a,1,0,1,2\n,1,0,1,2\n", ":3: empty bag_id");
  expect_error(h + "a,-1,0,1,2\n", ":2: label '-1' is not an integer >= 0");
  expect_error(h + "a,1,2,1,2\n", ":2: instance_label '2' is not 0 or 1");
  expect_error(h + "a,1,0,1,nan\n", ":2: column 5 ('f2'): 'nan' is not a finite number");
  expect_error(h + "a,1,0,1,2x\n", ":2: column 5 ('f2'): '2x' is not a finite number");
  expect_error(h + "a,1,0,1,2\nb,0,0,1,2\n\na,0,0,1,2\n", ":5: bag 'a' has label 0 here but 1 at line 2");
  expect_error(h, ": no MIL rows");
  EXPECT_EQ(error_of(dir / "missing.csv"), dir / "missing.csv: MIL features file not found");

  const auto train = write_file(dir, "t.csv", h + "a,3,0,1,2\n");
  try {
    MilFeaturesDataset(MilFeaturesOptions{train, "", "", 2});
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), train + ":2: label 3 is not below num_classes 2");
  }
  const auto other = write_file(dir, "v.csv", "bag_id,label,f1\na,1,2\n");
  try {
    MilFeaturesDataset(MilFeaturesOptions{train, other, "", 0});
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), other + ": 1 features per instance, but " + train + " has 2");
  }
}

}  // namespace
}  // namespace attnlab::datasets
