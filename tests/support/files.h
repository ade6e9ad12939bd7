// Small helpers for tests that read files: write a file into a TempDir, and the message of whatever
// std::exception a call throws.
#pragma once

#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "tests/support/temp_dir.h"

namespace attnlab::testing {

// Writes `text` (bytes as given) to `dir`/`name`; returns the path.
inline std::string write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The what() of the std::exception `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace attnlab::testing
