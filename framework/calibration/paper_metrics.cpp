#include "framework/calibration/paper_metrics.h"

#include <cmath>
#include <cstdio>

#include "framework/abstention/paper_compat_metrics.h"

namespace attnlab::calibration {
namespace {

// A number of the JSON object, NaN where it is null (nlohmann stores NaN as null).
double number_at(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace

nlohmann::json paper_metrics_json(const abstention::MethodOutput& output, const Scored& test, const std::string& method) {
  const bool abstains = method == "rl_paper" || method == "rl_sound" || method == "dual_threshold";
  const auto flavor = abstains ? abstention::PaperCompatFlavor::ours : abstention::PaperCompatFlavor::baseline;
  const auto m = abstention::paper_compat_metrics(output, test.probs, test.labels, flavor);
  return {{"flavor", abstains ? "ours" : "baseline"},
          {"accuracy", m.accuracy}, {"coverage", m.coverage}, {"set_size", m.set_size}, {"uacc", m.uacc},
          {"auroc", m.auroc},       {"auarc", m.auarc},       {"ece", m.ece},
          {"single_rate", m.single_rate}, {"set_rate", m.set_rate}, {"abstain_rate", m.abstain_rate}};
}

std::string paper_metrics_table(const Comparison& c) {
  std::string out;
  char line[256];
  for (const auto& r : c.methods) {
    const auto& p = r.paper_metrics;
    if (p.is_null()) continue;
    if (out.empty()) {
      out = "paper_compat (the papers' definitions: abstentions count as correct and covered and as set size 7 in "
            "'ours'; not comparable across flavours):\n";
      std::snprintf(line, sizeof line, "%-16s %-9s %9s %9s %9s %7s %7s %7s %7s\n", "method", "flavour", "accuracy",
                    "coverage", "set size", "UAcc", "AUROC", "AUARC", "ECE");
      out += line;
    }
    std::snprintf(line, sizeof line, "%-16s %-9s %9.4f %9.4f %9.3f %7.3f %7.4f %7.4f %7.4f\n", r.name.c_str(),
                  p.value("flavor", "").c_str(), number_at(p, "accuracy"), number_at(p, "coverage"),
                  number_at(p, "set_size"), number_at(p, "uacc"), number_at(p, "auroc"), number_at(p, "auarc"),
                  number_at(p, "ece"));
    out += line;
  }
  return out;
}

}  // namespace attnlab::calibration
