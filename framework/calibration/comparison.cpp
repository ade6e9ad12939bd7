#include "framework/calibration/comparison.h"

#include <cmath>
#include <cstdio>

#include "framework/calibration/fitted_methods.h"
#include "framework/calibration/paper_metrics.h"
#include "framework/errors.h"

namespace attnlab::calibration {
namespace {

void check_split(const Scored& s, const std::string& which) {
  if (!s.probs.defined() || s.probs.dim() != 2 || s.probs.size(0) == 0) {
    throw UserError("the " + which + " split is empty: nothing to calibrate on");
  }
}

std::string cell(double v, const char* format) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

FittedMethods fit_methods(const Scored& calibration, const Scored& test, const AbstentionSettings& settings) {
  check_split(calibration, "calibration");
  FittedMethods fitted;
  for (const std::string& m : settings.methods) {
    if (m == "dual_threshold") {
      fitted.push_back(fit_dual(calibration, settings));
    } else if (m == "rl_paper" || m == "rl_sound") {
      if (m == "rl_paper") check_split(test, "test");
      fitted.push_back(fit_rl(m == "rl_paper", calibration, test, settings));
    } else {
      fitted.push_back(fit_conformal(m, calibration, settings));
    }
  }
  return fitted;
}

Comparison compare(const FittedMethods& methods, const Scored& test, const AbstentionSettings& settings,
                   const std::string& condition) {
  check_split(test, "test");
  Comparison c;
  c.condition = condition;
  c.model = abstention::model_metrics(test.probs, test.labels, settings.penalty_c);
  const uint64_t condition_seed = method_seed(settings, condition, "condition");
  for (const auto& m : methods) {
    MethodReport r;
    r.name = m->name();
    r.tuned_on_test = m->tuned_on_test();
    r.parameters = m->parameters();
    const abstention::MethodOutput out = m->apply(test, condition_seed);
    r.metrics = abstention::method_metrics(out, test.probs, test.labels, settings.penalty_c);
    r.diagnostics = m->diagnostics(test, condition_seed);
    if (settings.metrics_mode == "paper_compat") r.paper_metrics = paper_metrics_json(out, test, m->name());
    c.methods.push_back(std::move(r));
  }
  return c;
}

nlohmann::json Comparison::to_json() const {
  nlohmann::json j;
  j["condition"] = condition;
  const auto& cal = model.calibration;
  nlohmann::json bins = nlohmann::json::array();
  for (const auto& b : cal.bins) {
    bins.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count},
                    {"mean_confidence", number(b.mean_confidence)}, {"accuracy", number(b.accuracy)}});
  }
  // The risk-coverage curve at (at most) 101 evenly spaced coverages keeps the file small.
  nlohmann::json curve = nlohmann::json::array();
  const size_t n = model.risk_coverage.coverage.size();
  for (int i = 1; i <= 100 && n; ++i) {
    const size_t m = std::max<size_t>(1, static_cast<size_t>(std::ceil(i / 100.0 * static_cast<double>(n))));
    curve.push_back({{"coverage", model.risk_coverage.coverage[m - 1]}, {"risk", model.risk_coverage.risk[m - 1]}});
  }
  j["model"] = {{"items", model.items},
                {"accuracy", model.accuracy},
                {"aurc", model.aurc},
                {"eaurc", model.eaurc},
                {"auarc", model.auarc},
                {"auroc", number(model.auroc)},
                {"ece", cal.ece},
                {"mce", cal.mce},
                {"reliability", bins},
                {"risk_coverage", curve},
                {"penalty_c", model.penalty_c},
                {"penalty_best_threshold", number(model.best_penalty.threshold)},
                {"penalty_best_score", model.best_penalty.score},
                {"chow_threshold", model.chow_threshold},
                {"chow_penalty_score", model.chow_penalty_score}};
  nlohmann::json methods_json = nlohmann::json::array();
  for (const auto& r : methods) {
    const auto& m = r.metrics;
    nlohmann::json e = {{"method", r.name},
                        {"tuned_on_test", r.tuned_on_test},
                        {"parameters", r.parameters},
                        {"items", m.items},
                        {"coverage", number(m.coverage)},
                        {"coverage_all", m.coverage_all},
                        {"average_set_size", number(m.average_set_size)},
                        {"singleton_rate", number(m.singleton_rate)},
                        {"empty_rate", number(m.empty_rate)},
                        {"abstention_rate", m.abstention_rate},
                        {"accuracy", number(m.accuracy)},
                        {"selective_risk", number(m.selective_risk)},
                        {"penalty_score", m.penalty_score},
                        {"set_size_counts", m.set_size_counts}};
    if (!r.diagnostics.empty()) e["diagnostics"] = r.diagnostics;
    if (!r.paper_metrics.is_null()) e["paper_compat"] = r.paper_metrics;
    methods_json.push_back(e);
  }
  j["methods"] = methods_json;
  return j;
}

std::string comparison_table(const Comparison& c, double alpha) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%s: %lld test items, target coverage %.3f (alpha %.3f)\n", c.condition.c_str(),
                (long long)c.model.items, 1.0 - alpha, alpha);
  out += line;
  std::snprintf(line, sizeof line, "%-16s %9s %9s %9s %9s %8s %9s %7s %9s\n", "method", "coverage", "cov(all)",
                "set size", "singleton", "abstain", "accuracy", "risk", "penalty");
  out += line;
  bool any_on_test = false;
  for (const auto& r : c.methods) {
    const auto& m = r.metrics;
    const std::string name = r.name + (r.tuned_on_test ? "*" : "");
    any_on_test |= r.tuned_on_test;
    std::snprintf(line, sizeof line, "%-16s %9s %9s %9s %9s %8s %9s %7s %9s\n", name.c_str(),
                  cell(m.coverage, "%.3f").c_str(), cell(m.coverage_all, "%.3f").c_str(),
                  cell(m.average_set_size, "%.2f").c_str(), cell(m.singleton_rate, "%.3f").c_str(),
                  cell(m.abstention_rate, "%.3f").c_str(), cell(m.accuracy, "%.3f").c_str(),
                  cell(m.selective_risk, "%.3f").c_str(), cell(m.penalty_score, "%.1f").c_str());
    out += line;
  }
  if (any_on_test) out += "* thresholds chosen on the test split itself, as the paper did: not a fair comparison\n";
  const auto& mm = c.model;
  std::snprintf(line, sizeof line,
                "model: accuracy %.4f | AURC %.4f | E-AURC %.4f | AUROC %s | AUARC %.4f | ECE(15) %.4f | "
                "penalty(c=%g) best %.1f, Chow rule (answer if p > %.3f) %.1f\n",
                mm.accuracy, mm.aurc, mm.eaurc, cell(mm.auroc, "%.4f").c_str(), mm.auarc, mm.calibration.ece,
                mm.penalty_c, mm.best_penalty.score, mm.chow_threshold, mm.chow_penalty_score);
  out += line;
  const std::string paper = paper_metrics_table(c);
  if (!paper.empty()) out += paper;
  return out;
}

std::string sweep_table(const std::vector<Comparison>& conditions) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %-16s %9s %9s %9s %8s %9s %9s\n", "condition", "method", "coverage",
                "cov(all)", "set size", "abstain", "accuracy", "model acc");
  out += line;
  for (const auto& c : conditions) {
    for (const auto& r : c.methods) {
      const auto& m = r.metrics;
      std::snprintf(line, sizeof line, "%-20s %-16s %9s %9s %9s %8s %9s %9.3f\n", c.condition.c_str(),
                    r.name.c_str(), cell(m.coverage, "%.3f").c_str(), cell(m.coverage_all, "%.3f").c_str(),
                    cell(m.average_set_size, "%.2f").c_str(),
                    cell(m.abstention_rate, "%.3f").c_str(), cell(m.accuracy, "%.3f").c_str(), c.model.accuracy);
      out += line;
    }
  }
  return out;
}

}  // namespace attnlab::calibration
