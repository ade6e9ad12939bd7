// metrics_mode: paper_compat — the papers' own metric definitions next to the clean ones
// (abstention/paper_compat_metrics.h): the RL paper's "ours" flavour for methods that abstain
// (rl_paper, rl_sound, dual_threshold), its baseline flavour for the conformal sets. The numbers
// reproduce the papers' tables; they are not comparable across the two flavours.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "framework/abstention/method_output.h"
#include "framework/calibration/comparison.h"

namespace attnlab::calibration {

nlohmann::json paper_metrics_json(const abstention::MethodOutput& output, const Scored& test, const std::string& method);
// The paper-compat table of a comparison; "" when it has no paper-compat metrics.
std::string paper_metrics_table(const Comparison& comparison);

}  // namespace attnlab::calibration
