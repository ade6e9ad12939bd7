#include "framework/report/abstention_plots.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

#include "framework/report/svg_chart.h"

namespace attnlab::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

std::string fixed(double v, const char* format = "%.3f") {
  if (!std::isfinite(v)) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string reliability(const nlohmann::json& model) {
  BarChart chart{"Reliability diagram (clean test)", "confidence bin", "fraction", {}, {{"accuracy", {}}, {"mean confidence", {}}}, 1.0};
  for (const auto& bin : model["reliability"]) {
    chart.categories.push_back(fixed(number(bin, "lower"), "%.2f"));
    chart.groups[0].values.push_back(number(bin, "accuracy"));
    chart.groups[1].values.push_back(number(bin, "mean_confidence"));
  }
  return bar_chart(chart);
}

Series risk_coverage(const std::string& name, const nlohmann::json& model) {
  Series s{name, {}, {}};
  for (const auto& p : model["risk_coverage"]) {
    s.x.push_back(number(p, "coverage"));
    s.y.push_back(number(p, "risk"));
  }
  return s;
}

std::string set_sizes(const nlohmann::json& methods) {
  BarChart chart{"Set sizes (clean test, answered items)", "labels in the set", "fraction of answered items", {}, {}, 0};
  size_t widest = 0;
  for (const auto& m : methods) {
    if (!m.contains("set_size_counts")) continue;
    const auto counts = m["set_size_counts"].get<std::vector<double>>();
    double total = 0;
    for (double c : counts) total += c;
    BarGroup g{m.value("method", "?"), {}};
    for (double c : counts) g.values.push_back(total > 0 ? c / total : kNaN);
    widest = std::max(widest, counts.size());
    chart.groups.push_back(g);
  }
  if (chart.groups.empty()) return "";
  for (size_t s = 0; s < widest; ++s) chart.categories.push_back(std::to_string(s));
  return bar_chart(chart);
}

// "gaussian_noise@3" -> ("gaussian_noise", 3).
std::pair<std::string, double> condition_of(const std::string& name) {
  const auto at = name.rfind('@');
  if (at == std::string::npos) return {name, kNaN};
  return {name.substr(0, at), std::atof(name.c_str() + at + 1)};
}

// One chart per corruption: each method's coverage over all items (abstained = not covered) and
// the model's accuracy against the severity, severity 0 being the clean test.
std::string severity_sweep(const nlohmann::json& results) {
  std::map<std::string, std::map<std::string, Series>> charts;  // corruption -> series name -> series
  const auto add = [&](const std::string& corruption, double severity, const nlohmann::json& condition) {
    auto& chart = charts[corruption];
    auto& acc = chart["model accuracy"];
    acc.name = "model accuracy";
    acc.x.push_back(severity), acc.y.push_back(number(condition["model"], "accuracy"));
    for (const auto& m : condition["methods"]) {
      const std::string name = m.value("method", "?") + " coverage";
      auto& s = chart[name];
      s.name = name;
      s.x.push_back(severity), s.y.push_back(number(m, "coverage_all"));
    }
  };
  for (const auto& condition : results["sweep"]) {
    const auto [corruption, severity] = condition_of(condition.value("condition", ""));
    if (charts.find(corruption) == charts.end() && results.contains("clean")) add(corruption, 0, results["clean"]);
    add(corruption, severity, condition);
  }
  std::string html;
  for (const auto& [corruption, series] : charts) {
    LineChart chart{"Severity sweep: " + corruption, "severity (0 = clean)", "coverage / accuracy", {}, false, false, true, 0, 1};
    for (const auto& [name, s] : series) chart.series.push_back(s);
    html += line_chart(chart);
  }
  return html;
}

std::string methods_table(const nlohmann::json& methods) {
  std::ostringstream s;
  s << "<table><tr><th>method</th><th>coverage</th><th>coverage (all)</th><th>set size</th><th>abstention</th>"
       "<th>accuracy</th><th>penalty</th></tr>";
  for (const auto& m : methods) {
    s << "<tr><td>" << escape_xml(m.value("method", "?")) << "</td><td>" << fixed(number(m, "coverage")) << "</td><td>"
      << fixed(number(m, "coverage_all")) << "</td><td>" << fixed(number(m, "average_set_size"), "%.2f") << "</td><td>"
      << fixed(number(m, "abstention_rate")) << "</td><td>" << fixed(number(m, "accuracy")) << "</td><td>"
      << fixed(number(m, "penalty_score"), "%.1f") << "</td></tr>";
  }
  s << "</table>";
  return s.str();
}

}  // namespace

std::string abstention_section(const nlohmann::json& results) {
  if (!results.is_object() || !results.contains("clean")) return "";
  const auto& clean = results["clean"];
  std::ostringstream s;
  s << "<h2 id=\"abstention\">Abstention</h2>";
  if (clean.contains("methods")) s << methods_table(clean["methods"]);
  s << "<div class=\"row\">";
  if (clean.contains("model") && clean["model"].contains("reliability")) s << reliability(clean["model"]);
  if (clean.contains("model") && clean["model"].contains("risk_coverage")) {
    LineChart chart{"Risk-coverage (max-probability confidence)", "coverage", "selective risk", {}, false, false, false, 0, 0};
    chart.series.push_back(risk_coverage("clean", clean["model"]));
    // The worst severity of each corruption: the curve the shift moves most.
    std::map<std::string, std::pair<double, const nlohmann::json*>> worst;
    if (results.contains("sweep")) {
      for (const auto& condition : results["sweep"]) {
        const auto [corruption, severity] = condition_of(condition.value("condition", ""));
        auto& w = worst[corruption];
        if (!w.second || severity > w.first) w = {severity, &condition};
      }
    }
    for (const auto& [corruption, w] : worst)
      chart.series.push_back(risk_coverage((*w.second).value("condition", corruption), (*w.second)["model"]));
    s << line_chart(chart);
  }
  if (clean.contains("methods")) s << set_sizes(clean["methods"]);
  s << "</div>";
  if (results.contains("sweep") && !results["sweep"].empty()) s << "<div class=\"row\">" << severity_sweep(results) << "</div>";
  return s.str();
}

}  // namespace attnlab::report
