// The abstention stage's results (RUN_DIR/abstention/results.json, framework/calibration) as report
// figures: the model's reliability diagram, risk-coverage curves (clean and the worst severity of
// each corruption), each method's set-size histogram, and the severity sweep per corruption.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::report {

// An HTML fragment (headings, SVGs, a table); "" when `results` has none of these.
std::string abstention_section(const nlohmann::json& results);

}  // namespace attnlab::report
