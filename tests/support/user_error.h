// The message of the attnlab::UserError that `f` throws, or "(no UserError)" when it throws none,
// for tests that assert on error messages.
#pragma once

#include <functional>
#include <string>

#include "framework/errors.h"

namespace attnlab::testing {

inline std::string user_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no UserError)";
}

}  // namespace attnlab::testing
