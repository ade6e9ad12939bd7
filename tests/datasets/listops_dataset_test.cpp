// The ListOps dataset: the spec, generated and file-backed splits, and batches padded to the
// longest example of the batch with padding_mask true exactly at the padding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/listops.h"

namespace attnlab::datasets {
namespace {

namespace fs = std::filesystem;

template <typename F>
void expect_data_error(F f, const std::string& part) {
  try {
    f();
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
        << "'" << part << "' not in: " << e.what();
  }
}

ListOpsDatasetOptions small_generated() {
  ListOpsDatasetOptions o;
  o.generator.train_size = 300;
  o.generator.val_size = 40;
  o.generator.test_size = 30;
  o.generator.max_length = 200;
  o.max_length = 200;
  return o;
}

TEST(ListOpsDataset, GeneratedSpecAndSplits) {
  ListOpsDataset data(small_generated());
  const auto spec = data.spec();
  EXPECT_EQ(spec.num_classes, 10);
  EXPECT_EQ(spec.vocab_size, 16);
  EXPECT_EQ(spec.feature_dim, 0);
  // The longest example actually generated, at most the generator's limit.
  int64_t longest = 0;
  for (const char* split : {"train", "val", "test"}) {
    const auto& ex = dynamic_cast<const ListOpsSplit&>(*data.split(split)).examples();
    for (int64_t i = 0; i < ex.size(); ++i) longest = std::max(longest, ex.length(i));
  }
  EXPECT_EQ(spec.max_length, longest);
  EXPECT_LE(spec.max_length, 200);
  EXPECT_EQ(spec.pad_id, 0);
  EXPECT_EQ(data.split_names(), (std::vector<std::string>{"train", "val", "test"}));
  EXPECT_EQ(data.split("train")->size(), 300);
  EXPECT_EQ(data.split("val")->size(), 40);
  EXPECT_EQ(data.split("test")->size(), 30);
  expect_data_error([&] { data.split("dev"); },
                    "listops: no split 'dev' (valid: train, val, test)");

  // The same options give the same data as the generator alone.
  const auto direct = generate_listops(small_generated().generator);
  const auto& train = dynamic_cast<const ListOpsSplit&>(*data.split("train"));
  EXPECT_EQ(train.examples().text(5), direct.train.text(5));
  EXPECT_EQ(train.examples().labels(), direct.train.labels());
}

TEST(ListOpsDataset, BatchPadsToTheLongestInTheBatch) {
  ListOpsDataset data(small_generated());
  const auto& train = dynamic_cast<const ListOpsSplit&>(*data.split("train"));
  const auto& ex = train.examples();
  // Pick examples of distinct lengths, including a bare digit (length 1).
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < ex.size() && indices.size() < 4; ++i) {
    bool fresh = true;
    for (const int64_t j : indices) fresh = fresh && ex.length(j) != ex.length(i);
    if (fresh) indices.push_back(i);
  }
  ASSERT_EQ(indices.size(), 4u);
  int64_t longest = 0;
  for (const int64_t i : indices) longest = std::max(longest, ex.length(i));

  const auto batch = train.batch(indices);
  ASSERT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{4, longest}));
  EXPECT_EQ(batch.inputs.scalar_type(), torch::kLong);
  ASSERT_TRUE(batch.padding_mask.defined());
  EXPECT_EQ(batch.padding_mask.scalar_type(), torch::kBool);
  ASSERT_EQ(batch.padding_mask.sizes(), batch.inputs.sizes());
  EXPECT_EQ(batch.labels.sizes(), (std::vector<int64_t>{4}));
  EXPECT_EQ(batch.size(), 4);
  const auto inputs = batch.inputs.accessor<int64_t, 2>();
  const auto mask = batch.padding_mask.accessor<bool, 2>();
  for (int64_t row = 0; row < 4; ++row) {
    const int64_t i = indices[static_cast<size_t>(row)];
    EXPECT_EQ(batch.labels[row].item<int64_t>(), ex.label(i));
    const uint8_t* ids = ex.ids_data() + ex.offset(i);
    for (int64_t t = 0; t < longest; ++t) {
      const bool pad = t >= ex.length(i);
      ASSERT_EQ(mask[row][t], pad) << row << "," << t;
      ASSERT_EQ(inputs[row][t], pad ? 0 : static_cast<int64_t>(ids[t])) << row << "," << t;
    }
  }
  // Order follows the indices; a repeated index is a repeated row.
  const auto twice = train.batch({indices[1], indices[1]});
  EXPECT_EQ(twice.inputs.size(1), ex.length(indices[1]));
  EXPECT_TRUE(torch::equal(twice.inputs[0], twice.inputs[1]));
}

TEST(ListOpsDataset, UnpaddedBatchHasNoMaskAndBadIndicesThrow) {
  ListOpsDataset data(small_generated());
  const auto& train = dynamic_cast<const ListOpsSplit&>(*data.split("train"));
  const auto batch = train.batch({3});
  EXPECT_EQ(batch.inputs.size(1), train.examples().length(3));
  EXPECT_FALSE(batch.padding_mask.defined());  // dataset.h: undefined when nothing is padded
  EXPECT_THROW(train.batch({0, 300}), std::out_of_range);
  EXPECT_THROW(train.batch({-1}), std::out_of_range);
}

TEST(ListOpsDataset, ReadsLraFilesAndChecksLengths) {
  const fs::path dir =
      fs::temp_directory_path() / ("attnlab_listops_ds_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"basic_train.tsv", "basic_val.tsv", "basic_test.tsv"}) {
    std::ofstream out(dir / name, std::ios::binary);
    out << "Source\tTarget\r\n( ( ( [MAX 2 ) 9 ) ] )\t9\r\n4\t4\r\n";
  }
  ListOpsDatasetOptions o;
  o.path = dir.string();
  ListOpsDataset data(o);
  EXPECT_EQ(data.spec().max_length, 4);  // [MAX 2 9 ] is the longest row
  EXPECT_EQ(data.split("test")->size(), 2);
  const auto batch = data.split("val")->batch({0, 1});
  // [MAX 2 9 ] and 4: ids 2, 6 + 2, 6 + 9, 5 and 6 + 4, then padding.
  const std::vector<int64_t> ids = {2, 8, 15, 5, 10, 0, 0, 0};
  EXPECT_TRUE(torch::equal(batch.inputs, torch::tensor(ids).view({2, 4})));
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor(std::vector<int64_t>{9, 4})));
  EXPECT_TRUE(torch::equal(
      batch.padding_mask,
      torch::tensor({false, false, false, false, false, true, true, true}).view({2, 4})));

  o.max_length = 3;
  expect_data_error(
      [&] { ListOpsDataset d(o); },
      (dir / "basic_train.tsv").string() + ":2: expression has 4 tokens, more than max_length 3");
  fs::remove_all(dir);
}

TEST(ListOpsDataset, BadOptionsAreNamed) {
  auto o = small_generated();
  o.generator.max_length = 300;
  expect_data_error([&] { ListOpsDataset d(o); },
                    "listops: generator.max_length (300) exceeds max_length (200)");
  o = small_generated();
  o.max_length = 0;
  expect_data_error([&] { ListOpsDataset d(o); }, "listops: max_length must be >= 1 (got 0)");
  o = small_generated();
  o.path = "/nonexistent/attnlab/listops";
  expect_data_error([&] { ListOpsDataset d(o); },
                    "/nonexistent/attnlab/listops/basic_train.tsv: ListOps file not found");
}

}  // namespace
}  // namespace attnlab::datasets
