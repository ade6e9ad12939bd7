// The suites of `attnlab reproduce` (recipes/suites/<suite>.yaml): finding them and reading one,
// every problem of a suite file one line naming file:line:column and the key (format in
// reproduce_command.cpp's help and at the top of each suite file).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace attnlab::tools::reproduce {

// One row of the table: one metric of one run. Rows with the same name share the run.
struct Row {
  std::string name;                    // the run directory's last component
  std::string recipe;                  // as the child gets it: the suite file's folder / recipe, normalised
  std::vector<std::string> overrides;  // the suite's, then the run's (the command line's come later)
  std::string claim;
  std::vector<std::string> metrics;    // dotted paths; the first present is the value
  std::string file = "summary.json";   // relative to the run directory
  std::string expected;                // as written in the suite, "" when not given
  std::optional<double> expected_value;
  std::string where;                   // "suite.yaml:L:C: runs.I" for messages
};

struct Suite {
  std::string name, path, description;
  std::vector<Row> rows;
};

// Suite name -> file: ./recipes/suites first, then the recipes/suites of the tree the binary was
// built in (build/attnlab -> ../recipes/suites), so names work from any directory.
std::map<std::string, std::string> known_suites();
// A suite name or a suite file's path -> the file; UserError naming the known suites otherwise.
std::string locate_suite(const std::string& arg);
// The suite at `path`; UserError with one line per problem.
Suite read_suite(const std::string& path);

// The key an override sets: "train.steps" of "++train.steps=3", "run_dir" of "~run_dir".
std::string override_key(const std::string& o);
bool is_override(const std::string& a);
std::string join(const std::vector<std::string>& parts, const std::string& sep);

}  // namespace attnlab::tools::reproduce
