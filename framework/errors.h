// User-facing errors: one clear line naming the file, line, key or row; `attnlab` prints it and
// exits with code 2. Internal invariants use TORCH_INTERNAL_ASSERT instead.
#pragma once

#include <stdexcept>
#include <string>

namespace attnlab {

// Thrown for anything the user can fix: a bad recipe, a missing file, a malformed row.
// what() is the complete message (no "error:" prefix; the command line adds it).
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace attnlab
