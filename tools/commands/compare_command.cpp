// `attnlab compare`: one row per run from its summary.json (status, steps, wall time, every final
// metric of every evaluated split, and the test of the best weights), printed as a Markdown table;
// --html also writes a page with the table and a bar chart per metric.
#include "tools/commands/compare_command.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/io/json_file.h"
#include "framework/report/svg_chart.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab compare RUN_DIR... [--html FILE]\n"
    "\n"
    "Prints a Markdown table of the runs' final metrics (summary.json): status, steps, wall time,\n"
    "every metric of every split evaluated at the end (\"test/accuracy\"), and the same for the best\n"
    "checkpoint's weights (\"test/accuracy@best\"). --html FILE also writes the table with one bar\n"
    "chart per metric. A run without summary.json is listed as unfinished.\n";

struct Row {
  std::string run, name, status;
  std::map<std::string, double> values;  // column -> value
};

Row read_row(const std::string& run_dir) {
  Row row{run_dir, run_dir, "unfinished", {}};
  const std::string path = run_dir + "/summary.json";
  if (!std::filesystem::exists(run_dir + "/recipe.yaml")) throw UserError(run_dir + ": not a run directory (no recipe.yaml)");
  if (!std::filesystem::exists(path)) return row;
  const nlohmann::json s = io::read_json_file(path);
  row.name = s.value("name", run_dir);
  row.status = s.value("status", "?");
  for (const char* key : {"steps", "wall_time_s"})
    if (s.contains(key) && s[key].is_number()) row.values[key] = s[key].get<double>();
  const auto add = [&](const nlohmann::json& section, const std::string& suffix) {
    for (const auto& [split, metrics] : section.items()) {
      if (!metrics.is_object()) continue;
      for (const auto& [metric, v] : metrics.items())
        if (v.is_number() && metric != "examples") row.values[split + "/" + metric + suffix] = v.get<double>();
    }
  };
  if (s.contains("final")) add(s["final"], "");
  if (s.contains("best")) add(s["best"], "@best");
  return row;
}

std::string cell(const std::map<std::string, double>& values, const std::string& column) {
  const auto it = values.find(column);
  if (it == values.end() || !std::isfinite(it->second)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, column == "steps" ? "%.0f" : column == "wall_time_s" ? "%.1f" : "%.4f", it->second);
  return buf;
}

}  // namespace

int compare_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::vector<std::string> runs;
  std::string html;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--html" && i + 1 < args.size()) {
      html = args[++i];
    } else if (!args[i].empty() && args[i][0] == '-') {
      throw UserError("unknown option '" + args[i] + "' (see attnlab compare --help)");
    } else {
      runs.push_back(args[i]);
    }
  }
  if (runs.empty()) throw UserError("no run directories given (see attnlab compare --help)");
  std::vector<Row> rows;
  std::set<std::string> metric_columns;
  for (const auto& r : runs) {
    rows.push_back(read_row(r));
    for (const auto& [column, v] : rows.back().values)
      if (column != "steps" && column != "wall_time_s") metric_columns.insert(column);
  }
  std::vector<std::string> columns = {"steps", "wall_time_s"};
  columns.insert(columns.end(), metric_columns.begin(), metric_columns.end());

  std::ostringstream md;
  md << "| run | status |";
  for (const auto& c : columns) md << ' ' << c << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < columns.size(); ++i) md << "---|";
  md << '\n';
  for (const auto& row : rows) {
    md << "| " << row.run << " | " << row.status << " |";
    for (const auto& c : columns) md << ' ' << cell(row.values, c) << " |";
    md << '\n';
  }
  std::fputs(md.str().c_str(), stdout);

  if (!html.empty()) {
    std::ostringstream page;
    page << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>attnlab compare</title><style>"
            "body{font-family:sans-serif;margin:24px}table{border-collapse:collapse;font-size:13px}"
            "td,th{border:1px solid #ddd;padding:3px 8px}.row{display:flex;flex-wrap:wrap;gap:12px}</style></head><body>"
            "<h1>Runs compared</h1><table><tr><th>run</th><th>status</th>";
    for (const auto& c : columns) page << "<th>" << report::escape_xml(c) << "</th>";
    page << "</tr>";
    for (const auto& row : rows) {
      page << "<tr><td>" << report::escape_xml(row.run) << "</td><td>" << report::escape_xml(row.status) << "</td>";
      for (const auto& c : columns) page << "<td>" << cell(row.values, c) << "</td>";
      page << "</tr>";
    }
    page << "</table><div class=\"row\">";
    for (const auto& c : columns) {
      report::BarChart chart{c, "run", c, {}, {{c, {}}}, 0};
      for (const auto& row : rows) {
        chart.categories.push_back(std::to_string(chart.categories.size() + 1));
        const auto it = row.values.find(c);
        chart.groups[0].values.push_back(it == row.values.end() ? NAN : it->second);
      }
      page << report::bar_chart(chart);
    }
    page << "</div><p>Runs by number: ";
    for (size_t i = 0; i < rows.size(); ++i) page << (i ? ", " : "") << i + 1 << " = " << report::escape_xml(rows[i].run);
    page << "</p></body></html>\n";
    io::write_file_atomic(html, page.str());
  }
  return 0;
}

}  // namespace attnlab::tools
