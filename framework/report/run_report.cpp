#include "framework/report/run_report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/io/json_file.h"
#include "framework/report/abstention_plots.h"
#include "framework/report/svg_chart.h"

namespace attnlab::report {
namespace {

nlohmann::json optional_json(const std::string& path) {
  return std::filesystem::exists(path) ? io::read_json_file(path) : nlohmann::json(nullptr);
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
    return buf;
  }
  return v.is_string() ? v.get<std::string>() : v.dump();
}

Series series_of(const std::string& name, const Curve& c) { return {name, c.steps, c.values}; }

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string summary_section(const ReportInputs& in) {
  std::ostringstream s;
  const auto& sum = in.summary;
  s << "<table class=\"kv\">";
  if (sum.is_object()) {
    for (const char* key : {"status", "steps", "total_steps", "epoch", "wall_time_s", "skipped_steps"})
      if (sum.contains(key)) s << "<tr><th>" << key << "</th><td>" << escape_xml(value_text(sum[key])) << "</td></tr>";
    if (sum.contains("best") && sum["best"].contains("step")) {
      s << "<tr><th>best</th><td>step " << value_text(sum["best"]["step"]) << ", "
        << escape_xml(sum["best"].value("monitor", "")) << " = " << value_text(sum["best"].value("value", nlohmann::json()))
        << "</td></tr>";
    }
  } else {
    s << "<tr><th>status</th><td>no summary.json (still running, or stopped before the end)</td></tr>";
  }
  s << "</table>";
  // Final metrics: one row per split, one column per metric.
  if (sum.is_object() && sum.contains("final")) {
    std::set<std::string> metrics;
    for (const auto& [split, m] : sum["final"].items())
      for (const auto& [k, v] : m.items())
        if (v.is_number() && k != "examples") metrics.insert(k);
    s << "<table><tr><th>final</th>";
    for (const auto& m : metrics) s << "<th>" << escape_xml(m) << "</th>";
    s << "</tr>";
    const auto row = [&](const std::string& label, const nlohmann::json& m) {
      s << "<tr><td>" << escape_xml(label) << "</td>";
      for (const auto& k : metrics) s << "<td>" << (m.contains(k) ? value_text(m[k]) : "") << "</td>";
      s << "</tr>";
    };
    for (const auto& [split, m] : sum["final"].items()) row(split, m);
    if (sum.contains("best"))
      for (const auto& [split, m] : sum["best"].items())
        if (m.is_object()) row(split + " (best weights)", m);
    s << "</table>";
  }
  return s.str();
}

std::string run_info_section(const nlohmann::json& info) {
  if (!info.is_object() || !info.contains("invocations") || info["invocations"].empty()) return "";
  std::ostringstream s;
  s << "<h2 id=\"run\">Run record</h2><table><tr><th>started</th><th>status</th><th>steps</th><th>wall time (s)</th>"
       "<th>peak memory (MiB)</th><th>commit</th><th>LibTorch</th><th>machine</th><th>device</th></tr>";
  for (const auto& r : info["invocations"]) {
    const std::string commit = r.value("git_commit", "?").substr(0, 12) + (r.value("git_dirty", false) ? "+" : "");
    s << "<tr><td>" << escape_xml(r.value("started", "")) << "</td><td>" << escape_xml(r.value("status", ""))
      << "</td><td>" << (r.contains("step") ? value_text(r["step"]) : "") << "</td><td>"
      << (r.contains("wall_time_s") ? value_text(r["wall_time_s"]) : "") << "</td><td>"
      << (r.contains("peak_resident_mib") ? value_text(r["peak_resident_mib"]) : "") << "</td><td>"
      << escape_xml(commit) << "</td><td>" << escape_xml(r.value("libtorch", "")) << "</td><td>"
      << escape_xml(r.value("hostname", "") + ": " + value_text(r.value("cores", nlohmann::json(0))) + " cores, " +
                    r.value("cpu_model", "") + ", " + value_text(r.value("cuda_devices", nlohmann::json(0))) + " GPUs")
      << "</td><td>" << escape_xml(r.value("device", "") + " × " + value_text(r.value("threads", nlohmann::json(0))) +
                                   " threads, " + value_text(r.value("processes", nlohmann::json(1))) + " process(es)")
      << "</td></tr>";
  }
  s << "</table><p class=\"note\">commit: the source the binary was built from (+: with uncommitted changes).</p>";
  return s.str();
}

std::string curves_section(const RunHistory& h) {
  std::ostringstream s;
  s << "<h2 id=\"curves\">Training curves</h2><div class=\"row\">";
  // Every loss term of training, and each evaluated split's loss.
  LineChart loss{"Loss", "step", "loss", {}, false, false, false, 0, 0};
  for (const auto& [key, c] : h.train)
    if (key == "loss" || starts_with(key, "loss/")) loss.series.push_back(series_of("train " + key, c));
  for (const auto& [split, metrics] : h.eval)
    if (metrics.count("loss")) loss.series.push_back(series_of(split + " loss", metrics.at("loss")));
  if (!loss.series.empty()) s << line_chart(loss);
  // Each evaluation metric, one series per split.
  std::set<std::string> metric_names;
  for (const auto& [split, metrics] : h.eval)
    for (const auto& [key, c] : metrics)
      if (key != "loss" && !starts_with(key, "attention/")) metric_names.insert(key);
  for (const auto& name : metric_names) {
    LineChart chart{name, "step", name, {}, false, false, true, 0, 0};
    for (const auto& [split, metrics] : h.eval)
      if (metrics.count(name)) chart.series.push_back(series_of(split, metrics.at(name)));
    s << line_chart(chart);
  }
  if (h.train.count("lr"))
    s << line_chart({"Learning rate", "step", "lr", {series_of("lr", h.train.at("lr"))}, false, false, false, 0, 0});
  if (h.train.count("grad_norm")) {
    s << line_chart({"Gradient norm (before clipping)", "step", "global L2 norm", {series_of("grad_norm", h.train.at("grad_norm"))},
                     false, false, false, 0, 0});
  }
  // Anything else the trainer logs (e.g. non-finite step counts), one chart each.
  for (const auto& [key, c] : h.train) {
    if (key == "loss" || starts_with(key, "loss/") || key == "lr" || key == "grad_norm" || starts_with(key, "attention/"))
      continue;
    s << line_chart({key, "step", key, {series_of(key, c)}, false, false, false, 0, 0});
  }
  s << "</div>";
  return s.str();
}

// Scalar attention statistics over steps (train and each split), and the newest per-head vectors.
std::string attention_statistics_section(const RunHistory& h) {
  std::set<std::string> scalar_names;
  for (const auto& [key, c] : h.train)
    if (starts_with(key, "attention/")) scalar_names.insert(key);
  for (const auto& [split, metrics] : h.eval)
    for (const auto& [key, c] : metrics)
      if (starts_with(key, "attention/")) scalar_names.insert(key);
  if (scalar_names.empty() && h.train_vectors.empty() && h.eval_vectors.empty()) return "";
  std::ostringstream s;
  s << "<h2 id=\"routing\">Attention statistics</h2><div class=\"row\">";
  for (const auto& name : scalar_names) {
    LineChart chart{name.substr(10), "step", name.substr(10), {}, false, false, true, 0, 0};
    if (h.train.count(name)) chart.series.push_back(series_of("train", h.train.at(name)));
    for (const auto& [split, metrics] : h.eval)
      if (metrics.count(name)) chart.series.push_back(series_of(split, metrics.at(name)));
    s << line_chart(chart);
  }
  // "attention/<site>/<stat>" vectors: one bar chart per statistic and kind of record, a group per site.
  for (const auto* vectors : {&h.train_vectors, &h.eval_vectors}) {
    std::map<std::string, BarChart> charts;
    for (const auto& [key, values] : *vectors) {
      const auto last = key.rfind('/');
      if (!starts_with(key, "attention/") || last <= 10) continue;
      const std::string stat = key.substr(last + 1), site = key.substr(10, last - 10);
      auto& chart = charts[stat];
      chart.title = stat + (vectors == &h.train_vectors ? " (newest training step)" : " (newest evaluation)");
      chart.x_label = "head";
      chart.y_label = "fraction of tokens";
      if (chart.categories.size() < values.size())
        for (size_t i = chart.categories.size(); i < values.size(); ++i) chart.categories.push_back(std::to_string(i));
      chart.groups.push_back({site, values});
    }
    for (const auto& [stat, chart] : charts) s << bar_chart(chart);
  }
  s << "</div>";
  return s.str();
}

std::string examples_section(const ReportInputs& in) {
  std::ostringstream s;
  s << "<h2 id=\"attention\">Attention over tokens</h2>";
  if (in.examples.empty()) {
    s << "<p class=\"note\">" << escape_xml(in.examples_note.empty() ? "no examples" : in.examples_note) << "</p>";
    return s.str();
  }
  s << "<p class=\"note\">The attention each token receives (mean over heads and real query rows) in the first "
    << in.examples.size() << " examples of the " << escape_xml(in.examples_split)
    << " split, one row per attention site; each row shaded against its own maximum. Outlined: evidence tokens.</p>";
  for (const auto& e : in.examples) {
    std::string title = "example " + std::to_string(e.index);
    if (e.label >= 0) title += ": label " + std::to_string(e.label) + ", predicted " + std::to_string(e.prediction);
    if (e.sites.empty()) {
      s << "<p class=\"note\">" << escape_xml(title) << ": no attention site over the tokens</p>";
      continue;
    }
    if (!e.view.pixels.empty()) {
      s << "<div class=\"row\"><div class=\"caption\">" << escape_xml(title) << "</div>";
      for (size_t k = 0; k < e.sites.size(); ++k) {
        s << patch_overlay({e.sites[k], static_cast<int>(e.view.image_height), static_cast<int>(e.view.image_width),
                            e.view.pixels, static_cast<int>(e.view.grid_rows), static_cast<int>(e.view.grid_cols),
                            e.attention[k]});
      }
      s << "</div>";
    } else {
      Heatmap map{title, e.sites, e.view.labels, e.attention, {}, true};
      if (!e.rationale.empty()) map.marked.assign(e.sites.size(), e.rationale);
      s << "<div class=\"scroll\">" << heatmap(map) << "</div>";
    }
  }
  return s.str();
}

const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1800px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}"
    "th{background:#f5f5f5}.row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
    ".scroll{overflow-x:auto}.note{color:#666;font-size:12px}.caption{width:100%;font-size:13px}"
    "pre{background:#f7f7f7;padding:10px;font-size:12px;overflow-x:auto}nav a{margin-right:12px}";

}  // namespace

ReportInputs read_report_inputs(const std::string& run_dir) {
  ReportInputs in;
  in.run_dir = run_dir;
  if (!std::filesystem::exists(run_dir + "/recipe.yaml"))
    throw UserError(run_dir + ": not a run directory (no recipe.yaml)");
  in.recipe_yaml = io::read_file(run_dir + "/recipe.yaml");
  in.summary = optional_json(run_dir + "/summary.json");
  in.run_info = optional_json(run_dir + "/run_info.json");
  in.abstention = optional_json(run_dir + "/abstention/results.json");
  in.history = read_run_history(run_dir + "/metrics.jsonl");
  return in;
}

std::string render_report(const ReportInputs& in) {
  const std::string name = in.summary.is_object() ? in.summary.value("name", in.run_dir) : in.run_dir;
  std::ostringstream s;
  s << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << escape_xml(name)
    << " - attnlab report</title><style>" << kStyle << "</style></head><body>\n<h1>" << escape_xml(name) << "</h1>"
    << "<p class=\"note\">" << escape_xml(in.run_dir) << "</p><nav><a href=\"#curves\">curves</a>"
    << "<a href=\"#attention\">attention</a>" << (in.abstention.is_object() ? "<a href=\"#abstention\">abstention</a>" : "")
    << "<a href=\"#recipe\">recipe</a></nav>\n"
    << summary_section(in) << "\n"
    << run_info_section(in.run_info) << "\n"
    << curves_section(in.history) << "\n"
    << attention_statistics_section(in.history) << "\n"
    << examples_section(in) << "\n"
    << abstention_section(in.abstention) << "\n"
    << "<h2 id=\"recipe\">Resolved recipe</h2><pre>" << escape_xml(in.recipe_yaml) << "</pre>\n</body></html>\n";
  return s.str();
}

}  // namespace attnlab::report
