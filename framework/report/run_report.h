// `attnlab report RUN_DIR`: one self-contained HTML page (inline SVG and CSS, no script, no
// network) of a run: summary and run record, loss and metric curves (every loss term, each
// evaluated split), learning rate and gradient norm, attention statistics (e.g. MoH's fraction of
// heads used) and per-head usage, attention heatmaps of a few validation examples, the abstention
// stage's figures when it ran, and the resolved recipe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/report/attention_examples.h"
#include "framework/report/run_history.h"

namespace attnlab::report {

struct ReportInputs {
  std::string run_dir;
  std::string recipe_yaml;            // recipe.yaml as saved
  nlohmann::json summary, run_info;   // summary.json, run_info.json; null when absent
  nlohmann::json abstention;          // abstention/results.json; null when absent
  RunHistory history;                 // metrics.jsonl
  std::string examples_split;         // the split the examples come from
  std::vector<AttentionExample> examples;
  std::string examples_note;          // why there are no examples, when there are none
};

// Everything but the attention examples, from the run directory's files. UserError for a
// directory without recipe.yaml or with a damaged JSON file (named).
ReportInputs read_report_inputs(const std::string& run_dir);

std::string render_report(const ReportInputs& inputs);

}  // namespace attnlab::report
