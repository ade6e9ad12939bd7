// The run directory (DESIGN.md §5):
//   recipe.yaml             the resolved recipe, as trained (re-read by `attnlab eval`)
//   recipe.provenance.yaml  the same with "# file:line:col" after every value
//   metrics.jsonl           training and evaluation records
//   checkpoints/            step_NNNNNNNNN/ directories, and best.json naming the best one
//   summary.json            the final state of the run
// Every file here is written atomically.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "framework/run/recipe.h"

namespace attnlab::run {

class RunDir {
 public:
  RunDir() = default;
  // Creates the directory (and checkpoints/) if needed; UserError if it cannot.
  static RunDir create(const std::string& path);
  // An existing run directory (for eval); UserError if it has no recipe.yaml.
  static RunDir open(const std::string& path);

  const std::string& path() const { return path_; }
  std::string checkpoints() const { return path_ + "/checkpoints"; }
  std::string metrics_path() const { return path_ + "/metrics.jsonl"; }
  std::string recipe_path() const { return path_ + "/recipe.yaml"; }

  void save_recipe(const Recipe& recipe);
  // CRC32C of the saved recipe.yaml text (hex), to notice a changed recipe on resume.
  std::string recipe_checksum() const { return recipe_checksum_; }

  void write_best(int64_t step, const std::string& monitor, double value) const;
  // The best checkpoint's directory, or "" when the run has none recorded.
  std::string best_checkpoint() const;
  // The newest checkpoint directory that verifies, or "" when none does.
  std::string last_checkpoint() const;
  void write_summary(const nlohmann::json& summary) const;

 private:
  std::string path_;
  std::string recipe_checksum_;
};

}  // namespace attnlab::run
