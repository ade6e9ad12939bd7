// Plots as inline SVG text for the HTML run report: line charts, grouped bar charts and heatmaps,
// with axes, "nice" ticks and a legend, and no script. Every drawn series carries
// data-series="<name>" (and every heatmap cell data-row/data-col/data-value), so tests and
// readers can find what was plotted; hovering shows values through <title> tooltips.
// Pure C++: no torch, no I/O.
#pragma once

#include <string>
#include <vector>

namespace attnlab::report {

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length; non-finite points leave a gap
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;          // e.g. learning rates, losses spanning decades (non-positive y skipped)
  bool diagonal = false;       // a dashed y = x reference line (e.g. perfect calibration)
  bool markers = false;        // a dot at every point (sparse series such as evaluations)
  double y_min = 0, y_max = 0; // both 0: from the data
};
std::string line_chart(const LineChart& chart);

// Bars per category, one bar per group side by side (e.g. per-head usage per layer).
struct BarGroup {
  std::string name;
  std::vector<double> values;  // one per category; non-finite: no bar
};
struct BarChart {
  std::string title, x_label, y_label;
  std::vector<std::string> categories;
  std::vector<BarGroup> groups;
  double y_max = 0;  // 0: from the data
};
std::string bar_chart(const BarChart& chart);

// A grid of cells shaded by value (white = the row's minimum or 0, dark = its maximum); one row
// per row label, one column per column label.
struct Heatmap {
  std::string title;
  std::vector<std::string> row_labels, column_labels;
  std::vector<std::vector<double>> values;     // [row][column]
  std::vector<std::vector<int>> marked;        // optional [row][column] != 0: outlined (e.g. evidence)
  bool per_row_scale = true;                   // each row shaded against its own maximum
};
std::string heatmap(const Heatmap& map);

// A grey image with attention over its patches in translucent red (opacity ∝ attention / max).
struct PatchOverlay {
  std::string title;
  int image_height = 0, image_width = 0;
  std::vector<float> pixels;                   // grey levels in [0, 1], row-major
  int grid_rows = 0, grid_cols = 0;
  std::vector<double> attention;               // one per patch, row-major
};
std::string patch_overlay(const PatchOverlay& overlay);

// Tick values covering [lo, hi] at a 1-2-5 step, about `target` of them (exposed for tests).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Text escaped for XML/HTML (& < > " ').
std::string escape_xml(const std::string& text);

}  // namespace attnlab::report
