#include "framework/report/run_history.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "framework/errors.h"

namespace attnlab::report {

RunHistory read_run_history(const std::string& metrics_path) {
  RunHistory h;
  std::ifstream in(metrics_path);
  if (!in) return h;
  static const std::set<std::string> bookkeeping = {"step", "epoch", "kind", "split", "examples"};
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    nlohmann::json rec;
    try {
      rec = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw UserError(metrics_path + ":" + std::to_string(number) + ": not JSON (" + e.what() + ")");
    }
    if (!rec.is_object() || !rec.contains("step") || !rec["step"].is_number())
      throw UserError(metrics_path + ":" + std::to_string(number) + ": not a record with a numeric \"step\"");
    const double step = rec["step"].get<double>();
    const std::string kind = rec.value("kind", "");
    if (kind != "train" && kind != "eval") continue;  // kinds a later version may add
    auto& curves = kind == "train" ? h.train : h.eval[rec.value("split", "val")];
    auto& vectors = kind == "train" ? h.train_vectors : h.eval_vectors;
    for (const auto& [key, value] : rec.items()) {
      if (bookkeeping.count(key)) continue;
      if (value.is_number()) {
        curves[key].steps.push_back(step);
        curves[key].values.push_back(value.get<double>());
      } else if (value.is_array() && !value.empty() && value.front().is_number()) {
        vectors[key] = value.get<std::vector<double>>();
      }
    }
  }
  return h;
}

}  // namespace attnlab::report
