// The digits reader: the installed scikit-learn file loads with the documented shape and splits,
// patches are an exact rearrangement of the image, and malformed files are named to the line.
#include "datasets/digits.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

namespace fs = std::filesystem;

using attnlab::testing::TempDir;

size_t distinct(const torch::Tensor& labels) {
  const auto c = labels.contiguous();
  return std::set<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()).size();
}

// A valid row: pixels (i + row) % 17, label row % 10.
std::string good_row(int row) {
  std::string line;
  for (int i = 0; i < 64; ++i) line += std::to_string((i + row) % 17) + ",";
  return line + std::to_string(row % 10);
}

void write_gz(const std::string& path, const std::vector<std::string>& lines) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  for (const auto& line : lines) gzputs(f, (line + "\n").c_str());
  gzclose(f);
}

// Runs `f`, expecting a DataError whose message contains every string in `parts`.
template <typename F>
void expect_data_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

TEST(Digits, InstalledFileLoads) {
  // Fails rather than skips when the file is missing: tools/setup.sh installs python3-sklearn.
  const std::string path = find_digits_file();
  const auto raw = read_digits_csv(path);
  EXPECT_EQ(raw.images.sizes(), (std::vector<int64_t>{1797, 8, 8}));
  EXPECT_EQ(raw.images.min().item<float>(), 0.0f);
  EXPECT_EQ(raw.images.max().item<float>(), 16.0f);
  EXPECT_EQ(distinct(raw.labels), 10u);
  // The first row of the file (a zero), as printed by zcat.
  EXPECT_EQ(raw.labels[0].item<int64_t>(), 0);
  EXPECT_TRUE(
      torch::equal(raw.images[0][0], torch::tensor({0, 0, 5, 13, 9, 1, 0, 0}, torch::kFloat)));

  DigitsDataset data(DigitsOptions{});
  EXPECT_EQ(data.path(), path);
  const auto spec = data.spec();
  EXPECT_EQ(spec.num_classes, 10);
  EXPECT_EQ(spec.vocab_size, 0);
  EXPECT_EQ(spec.feature_dim, 4);
  EXPECT_EQ(spec.max_length, 16);
  EXPECT_EQ(data.split_names(), (std::vector<std::string>{"train", "val", "test"}));
  int64_t total = 0;
  for (const auto& name : data.split_names()) total += data.split(name)->size();
  EXPECT_EQ(total, 1797);
  // Per class round(0.15 * n_c) for val and for test (class sizes 174..183); every class appears
  // in every split.
  EXPECT_EQ(data.split("val")->size(), 269);
  EXPECT_EQ(data.split("test")->size(), 269);
  EXPECT_EQ(data.split("train")->size(), 1259);
  for (const auto& name : data.split_names()) {
    const auto& split = dynamic_cast<const InMemorySplit&>(*data.split(name));
    EXPECT_EQ(distinct(split.labels()), 10u) << name;
  }

  const auto batch = data.split("train")->batch({0, 1, 2});
  EXPECT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{3, 16, 4}));
  EXPECT_EQ(batch.inputs.scalar_type(), torch::kFloat);
  EXPECT_FALSE(batch.padding_mask.defined());
  EXPECT_EQ(batch.labels.scalar_type(), torch::kLong);
  const auto& train = dynamic_cast<const InMemorySplit&>(*data.split("train"));
  EXPECT_GE(train.inputs().min().item<float>(), 0.0f);
  EXPECT_EQ(train.inputs().max().item<float>(), 1.0f);

  // Deterministic for a seed; another seed gives another split of the same sizes.
  DigitsDataset again(DigitsOptions{});
  const auto& train_again = dynamic_cast<const InMemorySplit&>(*again.split("train"));
  EXPECT_TRUE(torch::equal(train.inputs(), train_again.inputs()));
  EXPECT_TRUE(torch::equal(train.labels(), train_again.labels()));
  DigitsOptions other;
  other.seed = 1;
  DigitsDataset reseeded(other);
  const auto& train_other = dynamic_cast<const InMemorySplit&>(*reseeded.split("train"));
  EXPECT_EQ(train_other.size(), train.size());
  EXPECT_FALSE(torch::equal(train.labels(), train_other.labels()) &&
               torch::equal(train.inputs(), train_other.inputs()));

  expect_data_error([&] { data.split("dev"); }, {"no split 'dev'", "train, val, test"});
}

TEST(Digits, PatchesReassembleTheImage) {
  const auto images = torch::randint(0, 17, {3, 8, 8}).to(torch::kFloat);
  for (int64_t p : {1, 2, 4, 8}) {
    const auto patches = images_to_patches(images, p);
    const int64_t per_row = 8 / p;
    ASSERT_EQ(patches.sizes(), (std::vector<int64_t>{3, per_row * per_row, p * p}));
    // Patch (r, c) in row-major order; pixel (i, j) row-major within it.
    const auto acc = patches.accessor<float, 3>();
    const auto img = images.accessor<float, 3>();
    for (int64_t n = 0; n < 3; ++n) {
      for (int64_t r = 0; r < per_row; ++r) {
        for (int64_t c = 0; c < per_row; ++c) {
          for (int64_t i = 0; i < p; ++i) {
            for (int64_t j = 0; j < p; ++j) {
              ASSERT_EQ(acc[n][r * per_row + c][i * p + j], img[n][r * p + i][c * p + j])
                  << "p " << p;
            }
          }
        }
      }
    }
    EXPECT_TRUE(torch::equal(patches_to_images(patches, p, 8, 8), images)) << "p " << p;
  }
}

TEST(Digits, PatchSizeSetsTheSpec) {
  TempDir dir;
  const auto path = dir.file("small.csv.gz");
  std::vector<std::string> rows;
  for (int i = 0; i < 40; ++i) rows.push_back(good_row(i));
  write_gz(path, rows);
  for (int64_t p : {1, 2, 4, 8}) {
    DigitsOptions o;
    o.path = path;
    o.patch_size = p;
    DigitsDataset data(o);
    EXPECT_EQ(data.spec().max_length, (8 / p) * (8 / p));
    EXPECT_EQ(data.spec().feature_dim, p * p);
    EXPECT_EQ(data.split("train")->batch({0}).inputs.sizes(),
              (std::vector<int64_t>{1, (8 / p) * (8 / p), p * p}));
  }
  DigitsOptions bad;
  bad.path = path;
  bad.patch_size = 3;
  expect_data_error([&] { DigitsDataset d(bad); }, {"patch_size must be 1, 2, 4 or 8"});
}

TEST(Digits, PlainCsvIsAccepted) {
  TempDir dir;
  const auto path = dir.file("plain.csv");
  std::ofstream out(path);
  for (int i = 0; i < 3; ++i) out << good_row(i) << "\r\n";  // CRLF is tolerated
  out << good_row(3);                                        // no final newline
  out.close();
  const auto raw = read_digits_csv(path);
  EXPECT_EQ(raw.labels.numel(), 4);
  EXPECT_EQ(raw.labels[3].item<int64_t>(), 3);
  EXPECT_EQ(raw.images[1][0][0].item<float>(), 1.0f);
}

TEST(Digits, MalformedRowIsNamedByLine) {
  TempDir dir;
  const auto path = dir.file("short.csv.gz");
  write_gz(path, {good_row(0), good_row(1), good_row(2), good_row(3), "1,2,3", good_row(5)});
  expect_data_error([&] { read_digits_csv(path); },
                    {path + ":5: ", "expected 65 comma-separated values, got 3"});
}

TEST(Digits, NonNumberIsNamedByColumn) {
  TempDir dir;
  const auto path = dir.file("word.csv.gz");
  std::string row = good_row(1);
  row.replace(row.find(",") + 1, row.find(",", row.find(",") + 1) - row.find(",") - 1, "abc");
  write_gz(path, {good_row(0), row});
  expect_data_error([&] { read_digits_csv(path); }, {path + ":2: column 2: 'abc' is not a number"});
}

TEST(Digits, OutOfRangeValuesAreNamed) {
  TempDir dir;
  const auto pixel = dir.file("pixel.csv.gz");
  write_gz(pixel, {"17" + good_row(0).substr(1)});
  expect_data_error([&] { read_digits_csv(pixel); },
                    {pixel + ":1: column 1: pixel value 17 is outside 0..16"});
  const auto label = dir.file("label.csv.gz");
  write_gz(label, {good_row(0), good_row(1).substr(0, good_row(1).rfind(',')) + ",10"});
  expect_data_error([&] { read_digits_csv(label); },
                    {label + ":2: column 65: label 10 is not an integer in 0..9"});
}

TEST(Digits, MissingFileIsNamed) {
  const std::string path = "/nonexistent/attnlab/digits.csv.gz";
  expect_data_error([&] { read_digits_csv(path); }, {path + ": digits file not found"});
  DigitsOptions o;
  o.path = path;
  expect_data_error([&] { DigitsDataset d(o); }, {path + ": digits file not found"});
  TempDir dir;
  const auto empty = dir.file("empty.csv.gz");
  write_gz(empty, {});
  expect_data_error([&] { read_digits_csv(empty); }, {empty + ": no digits rows"});
}

}  // namespace
}  // namespace attnlab::datasets
