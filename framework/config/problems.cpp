// Formats collected recipe problems into the single UserError that reports them.
#include "framework/config/problems.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "framework/errors.h"

namespace attnlab::config {

std::string Problem::str() const {
  std::string s = origin.str();
  if (!path.empty()) s += (s.empty() ? "" : ": ") + path;
  return s + (s.empty() ? "" : ": ") + message;
}

void throw_if_problems(const std::vector<Problem>& problems) {
  if (problems.empty()) return;
  std::vector<const Problem*> sorted;
  for (const Problem& p : problems) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem* a, const Problem* b) {
    return std::tie(a->origin.file, a->origin.line, a->origin.column) <
           std::tie(b->origin.file, b->origin.line, b->origin.column);
  });
  std::string message;
  std::set<std::string> seen;
  for (const Problem* p : sorted) {
    std::string line = p->str();
    // The same problem can be reached twice (a value shared through a YAML alias).
    if (!seen.insert(line).second) continue;
    if (!message.empty()) message += "\n";
    message += line;
  }
  throw UserError(message);
}

}  // namespace attnlab::config
