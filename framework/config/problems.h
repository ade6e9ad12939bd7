// A problem found in a recipe (a bad key, a wrong type, an unset variable, a failed override),
// and the one error that reports all of them: loading, overriding, interpolating and validating
// collect problems instead of stopping at the first, so a user fixes a recipe in one pass.
#pragma once

#include <string>
#include <vector>

#include "framework/config/value.h"

namespace attnlab::config {

struct Problem {
  Origin origin;
  std::string path;         // dotted key path: "model.attention.heads"
  std::string message;      // "expected an integer, got 'ten'"
  std::string str() const;  // "<origin>: <path>: <message>"
};

// Throws one UserError listing every problem (one per line, sorted by file, line and column; the
// order of discovery breaks ties), if any.
void throw_if_problems(const std::vector<Problem>& problems);

}  // namespace attnlab::config
