// attnlab makes OpenMP's workers wait passively (framework/runtime/threads.h): it re-executes
// itself with OMP_WAIT_POLICY=PASSIVE when the variable is unset, keeps a value the user set, and
// records the policy and thread counts in run_info.json.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace attnlab::testing {
namespace {

// Sets or unsets an environment variable for one scope (the children inherit it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) had_ = true, old_ = old;
    if (value) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_.c_str(), old_.c_str(), 1);
    else unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

nlohmann::json last_invocation(const std::string& run_dir) {
  return nlohmann::json::parse(read_text(run_dir + "/run_info.json"))["invocations"].back();
}

TEST(ThreadsCli, RunsWithPassiveOpenMpWorkersUnlessTheUserChose) {
  const std::string dir = make_temp_dir("threads");
  const std::string recipe = source_path("tests/tools/data/tiny.yaml");
  const std::vector<std::string> common = {"train", recipe, "train.progress=none", "train.steps=3",
                                           "train.threads=2"};
  {
    const ScopedEnv unset("OMP_WAIT_POLICY", nullptr);
    auto args = common;
    args.push_back("run_dir=" + dir + "/default");
    const auto r = run_attnlab(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto info = last_invocation(dir + "/default");
    EXPECT_EQ(info.value("omp_wait_policy", ""), "PASSIVE") << info.dump();
    EXPECT_EQ(info.value("threads", 0), 2);
    EXPECT_EQ(info.value("blas_threads", 0), 2);  // 0 = as many as torch's threads
  }
  {
    const ScopedEnv active("OMP_WAIT_POLICY", "ACTIVE");
    auto args = common;
    args.push_back("run_dir=" + dir + "/active");
    args.push_back("train.blas_threads=1");
    const auto r = run_attnlab(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto info = last_invocation(dir + "/active");
    EXPECT_EQ(info.value("omp_wait_policy", ""), "ACTIVE") << info.dump();
    EXPECT_EQ(info.value("blas_threads", 0), 1);
  }
}

}  // namespace
}  // namespace attnlab::testing
