// Bad data through the command line: a missing digits file and a malformed row are one clear
// line naming the file (and line), with exit code 2.
#include <gtest/gtest.h>
#include <zlib.h>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

TEST(DataCli, MissingDigitsFile) {
  const std::string dir = make_temp_dir("data");
  const auto r = run_attnlab({"train", source_path("tests/tools/data/tiny.yaml"), "run_dir=" + dir,
                              "data.path=/nonexistent/digits.csv.gz"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/nonexistent/digits.csv.gz"), std::string::npos) << r.output;
  EXPECT_EQ(lines_of(r.output).size(), 1u) << r.output;
}

TEST(DataCli, MalformedRowNamesFileAndLine) {
  const std::string dir = make_temp_dir("data");
  const std::string path = dir + "/digits.csv.gz";
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::string row;
  for (int i = 0; i < 64; ++i) row += "0.0,";
  for (int line = 1; line <= 9; ++line) {
    const std::string text = line == 5 ? "1.0,2.0,3.0\n" : row + std::to_string(line % 10) + "\n";
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  }
  gzclose(f);
  const auto r = run_attnlab({"train", source_path("tests/tools/data/tiny.yaml"), "run_dir=" + dir + "/run",
                              "data.path=" + path});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(path + ":5:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace attnlab::testing
