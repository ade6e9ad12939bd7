// metrics.jsonl truncation on resume, and the progress output without a terminal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "framework/errors.h"
#include "framework/logging/metrics_log.h"
#include "framework/logging/progress.h"
#include "tests/support/temp_dir.h"

namespace attnlab::logging {
namespace {

using attnlab::testing::TempDir;

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MetricsLog, TruncateDropsLinesAfterTheCheckpoint) {
  const TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  int64_t mark = 0;
  {
    MetricsLog log(path);
    log.write({{"step", 1}});
    mark = log.size();
    log.write({{"step", 2}});
  }
  MetricsLog log(path);  // reopened, as on resume
  log.truncate_to(mark);
  log.write({{"step", 3}});
  EXPECT_EQ(slurp(path), "{\"step\":1}\n{\"step\":3}\n");
  EXPECT_THROW(log.truncate_to(10000), UserError);
}

TEST(Progress, PlainLinesEveryNSteps) {
  const TempDir dir;
  const std::string path = dir / "progress.txt";
  std::FILE* f = std::fopen(path.c_str(), "w");
  Progress p("auto", 10, 5, f);  // a file is not a terminal: plain lines
  EXPECT_FALSE(p.is_bar());
  for (int s = 1; s <= 10; ++s) p.update(s, 1.0 / s, 1e-3, 0.5);
  p.message("eval line");
  p.finish();
  std::fclose(f);
  const std::string text = slurp(path);
  EXPECT_NE(text.find("step 5/10 (50%) | loss 0.2000 | lr 1.00e-03"), std::string::npos) << text;
  EXPECT_NE(text.find("step 10/10 (100%)"), std::string::npos) << text;
  EXPECT_EQ(text.find("step 4/10"), std::string::npos) << text;
  EXPECT_NE(text.find("eval line\n"), std::string::npos);
}

TEST(Progress, DurationFormat) {
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(245), "4:05");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(NAN), "?");
}

}  // namespace
}  // namespace attnlab::logging
