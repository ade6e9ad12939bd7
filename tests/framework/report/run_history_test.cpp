// metrics.jsonl as plot series: training and per-split evaluation values against the step, the
// newest vectors, bookkeeping keys left out, unknown kinds skipped, damaged lines named.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "framework/errors.h"
#include "framework/report/run_history.h"

namespace attnlab::report {
namespace {

std::string write(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(RunHistory, SeriesPerKeyAndSplit) {
  const std::string path = write(
      "history.jsonl",
      "{\"kind\":\"train\",\"step\":10,\"epoch\":1,\"loss\":2.0,\"loss/task\":1.9,\"lr\":0.1,"
      "\"attention/layer0/moh_head_usage\":[1,0.5]}\n"
      "{\"kind\":\"eval\",\"split\":\"val\",\"step\":10,\"examples\":5,\"loss\":1.5,\"accuracy\":0.4}\n"
      "{\"kind\":\"future\",\"step\":15,\"x\":1}\n"
      "{\"kind\":\"train\",\"step\":20,\"loss\":1.0,\"lr\":0.05,\"attention/layer0/moh_head_usage\":[0.9,0.6]}\n"
      "{\"kind\":\"eval\",\"split\":\"test\",\"step\":20,\"accuracy\":0.6}\n");
  const RunHistory h = read_run_history(path);
  ASSERT_EQ(h.train.count("loss"), 1u);
  EXPECT_EQ(h.train.at("loss").steps, (std::vector<double>{10, 20}));
  EXPECT_EQ(h.train.at("loss").values, (std::vector<double>{2.0, 1.0}));
  EXPECT_EQ(h.train.at("loss/task").values, (std::vector<double>{1.9}));
  EXPECT_EQ(h.train.count("epoch"), 0u);
  EXPECT_EQ(h.eval.at("val").at("accuracy").values, (std::vector<double>{0.4}));
  EXPECT_EQ(h.eval.at("val").count("examples"), 0u);
  EXPECT_EQ(h.eval.at("test").at("accuracy").steps, (std::vector<double>{20}));
  EXPECT_EQ(h.train_vectors.at("attention/layer0/moh_head_usage"), (std::vector<double>{0.9, 0.6}));
  EXPECT_EQ(h.train.count("x"), 0u);
}

TEST(RunHistory, MissingFileIsEmptyAndDamagedLineIsNamed) {
  EXPECT_TRUE(read_run_history(::testing::TempDir() + "absent.jsonl").train.empty());
  const std::string path = write("damaged.jsonl", "{\"kind\":\"train\",\"step\":1,\"loss\":1}\n{\"kind\":\"train\",\n");
  try {
    read_run_history(path);
    FAIL() << "a damaged line was accepted";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":2: not JSON", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace attnlab::report
