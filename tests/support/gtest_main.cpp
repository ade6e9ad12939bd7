// The main of every test executable: GoogleTest's, except that a run in which every selected test
// skipped itself (GTEST_SKIP, e.g. GPU tests without a GPU) exits with kSkippedExitCode, which
// CTest reports as skipped (cmake/gtest_suites.cmake) instead of passed. A run with any failure
// still exits non-zero as usual.
#include <gtest/gtest.h>

namespace {
constexpr int kSkippedExitCode = 77;
}

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  const auto* unit = testing::UnitTest::GetInstance();
  if (rc == 0 && unit->test_to_run_count() > 0 &&
      unit->skipped_test_count() == unit->test_to_run_count()) {
    return kSkippedExitCode;
  }
  return rc;
}
