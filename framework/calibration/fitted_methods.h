// The fitters behind calibration::fit_methods, one per family (comparison.h lists the methods).
#pragma once

#include <memory>
#include <string>

#include "framework/abstention/conformal.h"
#include "framework/calibration/comparison.h"

namespace attnlab::calibration {

// The conformal options for score `score` (lac | aps | raps | top_k) under the settings.
abstention::ConformalOptions conformal_options(const std::string& score, const AbstentionSettings& settings);

// Seeds derived from settings.seed, one stream per use, so calibration and test uniforms are
// independent and adding a method never changes another's draws.
uint64_t method_seed(const AbstentionSettings& settings, const std::string& method, const std::string& use);

std::unique_ptr<FittedMethod> fit_conformal(const std::string& score, const Scored& calibration,
                                            const AbstentionSettings& settings);
std::unique_ptr<FittedMethod> fit_dual(const Scored& calibration, const AbstentionSettings& settings);
// paper: reward on `test` as published; sound: reward on a held-out part of `calibration`.
std::unique_ptr<FittedMethod> fit_rl(bool paper, const Scored& calibration, const Scored& test,
                                     const AbstentionSettings& settings);

}  // namespace attnlab::calibration
