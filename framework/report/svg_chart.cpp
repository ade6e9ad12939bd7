#include "framework/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace attnlab::report {
namespace {

// Plot geometry shared by the charts: the plot area and the legend column to its right.
constexpr double kWidth = 560, kHeight = 300;
constexpr double kLeft = 64, kRight = 150, kTop = 30, kBottom = 46;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* color(size_t i) { return kPalette[i % (sizeof kPalette / sizeof *kPalette)]; }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// A coordinate with two decimals: enough for the screen, short in the file.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  double pixels = 1;
  bool flip = false;  // y grows downwards on screen
  double offset = 0;
  double operator()(double v) const {
    double a = log ? std::log10(v) : v, l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
    const double f = h > l ? (a - l) / (h - l) : 0.5;
    return flip ? offset + pixels * (1 - f) : offset + pixels * f;
  }
};

// [lo, hi] widened when empty or degenerate so a flat series still has an axis.
void settle(double& lo, double& hi, bool log) {
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (lo == hi) {
    const double pad = log ? lo * 0.5 : std::max(std::abs(lo) * 0.1, 1e-3);
    lo -= pad;
    hi += log ? lo : pad;
  }
}

void frame(std::ostringstream& s, const std::string& title, const std::string& x_label, const std::string& y_label) {
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"sans-serif\" font-size=\"11\">"
    << "<title>" << escape_xml(title) << "</title>"
    << "<text x=\"" << kLeft << "\" y=\"18\" font-size=\"13\" font-weight=\"bold\">" << escape_xml(title) << "</text>"
    << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kPlotW << "\" height=\"" << kPlotH
    << "\" fill=\"none\" stroke=\"#888\"/>"
    << "<text x=\"" << px(kLeft + kPlotW / 2) << "\" y=\"" << kHeight - 8 << "\" text-anchor=\"middle\">"
    << escape_xml(x_label) << "</text>"
    << "<text transform=\"translate(14," << px(kTop + kPlotH / 2) << ") rotate(-90)\" text-anchor=\"middle\">"
    << escape_xml(y_label) << "</text>";
}

void y_axis(std::ostringstream& s, const Scale& y) {
  std::vector<double> ticks;
  if (y.log) {
    for (double e = std::floor(std::log10(y.lo)); e <= std::ceil(std::log10(y.hi)); ++e) {
      const double v = std::pow(10.0, e);
      if (v >= y.lo * 0.999 && v <= y.hi * 1.001) ticks.push_back(v);
    }
    if (ticks.empty()) ticks = {y.lo, y.hi};
  } else {
    ticks = nice_ticks(y.lo, y.hi);
  }
  for (double t : ticks) {
    const double py = y(t);
    s << "<line x1=\"" << kLeft << "\" x2=\"" << kLeft + kPlotW << "\" y1=\"" << px(py) << "\" y2=\"" << px(py)
      << "\" stroke=\"#e6e6e6\"/><text x=\"" << kLeft - 4 << "\" y=\"" << px(py + 4) << "\" text-anchor=\"end\">"
      << num(t) << "</text>";
  }
}

void legend(std::ostringstream& s, const std::vector<std::string>& names) {
  double ly = kTop + 6;
  for (size_t i = 0; i < names.size(); ++i, ly += 16) {
    s << "<rect x=\"" << kLeft + kPlotW + 10 << "\" y=\"" << px(ly) << "\" width=\"10\" height=\"10\" fill=\""
      << color(i) << "\"/><text x=\"" << kLeft + kPlotW + 24 << "\" y=\"" << px(ly + 9) << "\">"
      << escape_xml(names[i].size() > 22 ? names[i].substr(0, 21) + "\u2026" : names[i]) << "</text>";
  }
}

bool usable(double x, double y, bool log_y) { return std::isfinite(x) && std::isfinite(y) && (!log_y || y > 0); }

}  // namespace

std::string escape_xml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double exponent = std::floor(std::log10(raw));
  double multiple = 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    multiple = m;
    if (m * std::pow(10.0, exponent) >= raw) break;
  }
  // Tick k is k * multiple * 10^exponent, computed as an integer scaled by an exact power of ten
  // (dividing by 10^-exponent when it is negative), so 0.6 prints as 0.6, not 0.6000000000000001.
  const double scale = std::pow(10.0, std::abs(exponent));
  const auto value = [&](double k) { return exponent < 0 ? k * multiple / scale : k * multiple * scale; };
  const double step = value(1);
  std::vector<double> ticks;
  for (double k = std::ceil(lo / step - 1e-9); value(k) <= hi + step * 1e-9; ++k) ticks.push_back(value(k) + 0.0);
  return ticks;
}

std::string line_chart(const LineChart& c) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& series : c.series) {
    for (size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i) {
      if (!usable(series.x[i], series.y[i], c.log_y)) continue;
      x_lo = std::min(x_lo, series.x[i]), x_hi = std::max(x_hi, series.x[i]);
      y_lo = std::min(y_lo, series.y[i]), y_hi = std::max(y_hi, series.y[i]);
    }
  }
  if (c.y_min != 0 || c.y_max != 0) y_lo = c.y_min, y_hi = c.y_max;
  settle(x_lo, x_hi, false);
  settle(y_lo, y_hi, c.log_y);
  if (!c.log_y) {  // round the y range out to ticks, so the top and bottom lines are labelled
    const auto ticks = nice_ticks(y_lo, y_hi);
    if (ticks.size() > 1) {
      const double step = ticks[1] - ticks[0];
      y_lo = std::min(y_lo, ticks.front()), y_hi = std::max(y_hi, ticks.back());
      if (y_hi > ticks.back()) y_hi = ticks.back() + step;
      if (y_lo < ticks.front()) y_lo = ticks.front() - step;
    }
  }
  const Scale x{x_lo, x_hi, false, kPlotW, false, kLeft};
  const Scale y{y_lo, y_hi, c.log_y, kPlotH, true, kTop};
  std::ostringstream s;
  frame(s, c.title, c.x_label, c.y_label);
  y_axis(s, y);
  for (double t : nice_ticks(x_lo, x_hi)) {
    s << "<text x=\"" << px(x(t)) << "\" y=\"" << kTop + kPlotH + 14 << "\" text-anchor=\"middle\">" << num(t)
      << "</text>";
  }
  if (c.diagonal) {
    const double a = std::max(x_lo, y_lo), b = std::min(x_hi, y_hi);
    if (b > a) {
      s << "<line class=\"reference\" x1=\"" << px(x(a)) << "\" y1=\"" << px(y(a)) << "\" x2=\"" << px(x(b))
        << "\" y2=\"" << px(y(b)) << "\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>";
    }
  }
  std::vector<std::string> names;
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& series = c.series[k];
    names.push_back(series.name);
    std::string d;
    bool pen_down = false;
    std::ostringstream dots;
    for (size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i) {
      if (!usable(series.x[i], series.y[i], c.log_y)) {
        pen_down = false;  // a gap
        continue;
      }
      d += (pen_down ? " L" : " M") + px(x(series.x[i])) + " " + px(y(series.y[i]));
      pen_down = true;
      if (c.markers) {
        dots << "<circle cx=\"" << px(x(series.x[i])) << "\" cy=\"" << px(y(series.y[i])) << "\" r=\"2.5\" fill=\""
             << color(k) << "\"><title>" << escape_xml(series.name) << ": " << num(series.x[i]) << ", "
             << num(series.y[i]) << "</title></circle>";
      }
    }
    s << "<path class=\"series\" data-series=\"" << escape_xml(series.name) << "\" d=\"" << d
      << "\" fill=\"none\" stroke=\"" << color(k) << "\" stroke-width=\"1.6\"><title>" << escape_xml(series.name)
      << "</title></path>" << dots.str();
  }
  legend(s, names);
  s << "</svg>";
  return s.str();
}

std::string bar_chart(const BarChart& c) {
  double y_hi = c.y_max;
  if (y_hi <= 0)
    for (const auto& g : c.groups)
      for (double v : g.values)
        if (std::isfinite(v)) y_hi = std::max(y_hi, v);
  if (y_hi <= 0) y_hi = 1;
  const auto ticks = nice_ticks(0, y_hi);
  if (ticks.size() > 1 && c.y_max <= 0) y_hi = std::max(y_hi, ticks.back());
  const Scale y{0, y_hi, false, kPlotH, true, kTop};
  std::ostringstream s;
  frame(s, c.title, c.x_label, c.y_label);
  y_axis(s, y);
  const size_t n = std::max<size_t>(1, c.categories.size()), groups = std::max<size_t>(1, c.groups.size());
  const double slot = kPlotW / static_cast<double>(n), bar = slot * 0.8 / static_cast<double>(groups);
  // Every k-th label only, when the slots are too narrow for them to stay legible.
  const size_t label_every = slot >= 30 ? 1 : static_cast<size_t>(std::ceil(30 / slot));
  for (size_t i = 0; i < c.categories.size(); ++i) {
    if (i % label_every) continue;
    s << "<text x=\"" << px(kLeft + slot * (i + 0.5)) << "\" y=\"" << kTop + kPlotH + 14
      << "\" text-anchor=\"middle\">" << escape_xml(c.categories[i]) << "</text>";
  }
  std::vector<std::string> names;
  for (size_t g = 0; g < c.groups.size(); ++g) {
    names.push_back(c.groups[g].name);
    s << "<g class=\"series\" data-series=\"" << escape_xml(c.groups[g].name) << "\" fill=\"" << color(g) << "\">";
    for (size_t i = 0; i < std::min(c.groups[g].values.size(), c.categories.size()); ++i) {
      const double v = c.groups[g].values[i];
      if (!std::isfinite(v)) continue;
      const double top = y(std::min(std::max(v, 0.0), y_hi));
      s << "<rect class=\"bar\" x=\"" << px(kLeft + slot * i + slot * 0.1 + bar * g) << "\" y=\"" << px(top)
        << "\" width=\"" << px(bar) << "\" height=\"" << px(kTop + kPlotH - top) << "\"><title>"
        << escape_xml(c.groups[g].name + " " + c.categories[i]) << ": " << num(v) << "</title></rect>";
    }
    s << "</g>";
  }
  legend(s, names);
  s << "</svg>";
  return s.str();
}

namespace {

// White to dark blue, f in [0, 1].
std::string shade(double f) {
  f = std::clamp(std::isfinite(f) ? f : 0.0, 0.0, 1.0);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(255 - 222 * f), static_cast<int>(255 - 153 * f),
                static_cast<int>(255 - 75 * f));
  return buf;
}

}  // namespace

std::string heatmap(const Heatmap& m) {
  const size_t rows = m.values.size();
  size_t cols = 0;
  for (const auto& r : m.values) cols = std::max(cols, r.size());
  const double label_w = 70, cell_w = std::clamp(640.0 / std::max<size_t>(1, cols), 14.0, 44.0), cell_h = 22;
  // Cells stay wide enough for a rotated label each; long rows scroll (the page wraps them in a scroller).
  const double top = 26, width = label_w + cell_w * cols + 10, height = top + cell_h * rows + 60;
  double global_max = 0;
  for (const auto& r : m.values)
    for (double v : r)
      if (std::isfinite(v)) global_max = std::max(global_max, v);
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" width=\"" << px(width) << "\" height=\""
    << px(height) << "\" font-family=\"sans-serif\" font-size=\"10\"><title>" << escape_xml(m.title) << "</title>"
    << "<text x=\"0\" y=\"16\" font-size=\"12\" font-weight=\"bold\">" << escape_xml(m.title) << "</text>";
  for (size_t r = 0; r < rows; ++r) {
    double row_max = 0;
    for (double v : m.values[r])
      if (std::isfinite(v)) row_max = std::max(row_max, v);
    const double scale = m.per_row_scale ? row_max : global_max;
    const double y = top + cell_h * r;
    s << "<text x=\"" << label_w - 4 << "\" y=\"" << px(y + 15) << "\" text-anchor=\"end\">"
      << escape_xml(r < m.row_labels.size() ? m.row_labels[r] : "") << "</text>";
    for (size_t c = 0; c < m.values[r].size(); ++c) {
      const double v = m.values[r][c];
      const bool mark = r < m.marked.size() && c < m.marked[r].size() && m.marked[r][c];
      const std::string label = c < m.column_labels.size() ? m.column_labels[c] : std::to_string(c);
      s << "<rect class=\"cell\" data-row=\"" << r << "\" data-col=\"" << c << "\" data-value=\"" << num(v)
        << "\" x=\"" << px(label_w + cell_w * c) << "\" y=\"" << px(y) << "\" width=\"" << px(cell_w - 1)
        << "\" height=\"" << px(cell_h - 2) << "\" fill=\"" << shade(scale > 0 ? v / scale : 0) << "\""
        << (mark ? " stroke=\"#d62728\" stroke-width=\"2\"" : "") << "><title>" << escape_xml(label) << ": "
        << num(v) << (mark ? " (evidence)" : "") << "</title></rect>";
    }
  }
  for (size_t c = 0; c < cols; ++c) {
    const double x = label_w + cell_w * (c + 0.5), y = top + cell_h * rows + 6;
    const std::string label = c < m.column_labels.size() ? m.column_labels[c] : std::to_string(c);
    s << "<text transform=\"translate(" << px(x) << "," << px(y) << ") rotate(60)\">"
      << escape_xml(label.size() > 10 ? label.substr(0, 9) + "\u2026" : label) << "</text>";
  }
  s << "</svg>";
  return s.str();
}

std::string patch_overlay(const PatchOverlay& o) {
  const double cell = 16, top = 20;
  const double width = std::max(cell * o.image_width, 120.0), height = top + cell * o.image_height;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"patches\" width=\"" << px(width) << "\" height=\""
    << px(height) << "\" font-family=\"sans-serif\" font-size=\"10\"><title>" << escape_xml(o.title) << "</title>"
    << "<text x=\"0\" y=\"13\">" << escape_xml(o.title) << "</text>";
  for (int r = 0; r < o.image_height; ++r) {
    for (int c = 0; c < o.image_width; ++c) {
      const size_t i = static_cast<size_t>(r) * o.image_width + c;
      const int grey = static_cast<int>(255 * (1 - std::clamp(i < o.pixels.size() ? o.pixels[i] : 0.f, 0.f, 1.f)));
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x", grey, grey, grey);
      s << "<rect x=\"" << px(cell * c) << "\" y=\"" << px(top + cell * r) << "\" width=\"" << cell << "\" height=\""
        << cell << "\" fill=\"" << fill << "\"/>";
    }
  }
  double max = 0;
  for (double a : o.attention)
    if (std::isfinite(a)) max = std::max(max, a);
  if (o.grid_rows > 0 && o.grid_cols > 0) {
    const double ph = cell * o.image_height / o.grid_rows, pw = cell * o.image_width / o.grid_cols;
    for (int r = 0; r < o.grid_rows; ++r) {
      for (int c = 0; c < o.grid_cols; ++c) {
        const size_t i = static_cast<size_t>(r) * o.grid_cols + c;
        const double a = i < o.attention.size() ? o.attention[i] : 0;
        s << "<rect class=\"cell\" data-row=\"" << r << "\" data-col=\"" << c << "\" data-value=\"" << num(a)
          << "\" x=\"" << px(pw * c) << "\" y=\"" << px(top + ph * r) << "\" width=\"" << px(pw) << "\" height=\""
          << px(ph) << "\" fill=\"#d62728\" fill-opacity=\"" << px(max > 0 ? 0.75 * a / max : 0)
          << "\" stroke=\"#fff\" stroke-opacity=\"0.4\"><title>patch " << r << "," << c << ": " << num(a)
          << "</title></rect>";
      }
    }
  }
  s << "</svg>";
  return s.str();
}

}  // namespace attnlab::report
