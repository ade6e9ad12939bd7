// The SVG plots of the report: ticks, escaping, what each chart marks as a series, gaps for
// non-finite points, log scales skipping non-positive values, and heatmap cells with their values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "framework/report/svg_chart.h"

namespace attnlab::report {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(SvgChart, NiceTicksUseOneTwoFiveSteps) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(nice_ticks(0, 1500), (std::vector<double>{0, 500, 1000, 1500}));
  const auto t = nice_ticks(0.013, 0.0871);
  ASSERT_FALSE(t.empty());
  EXPECT_GE(t.front(), 0.013);
  EXPECT_LE(t.back(), 0.0871);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], 0.02, 1e-12);
  EXPECT_EQ(nice_ticks(3, 3).size(), 1u);  // degenerate ranges do not loop
}

TEST(SvgChart, EscapesMarkup) {
  EXPECT_EQ(escape_xml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST(SvgChart, LineChartMarksEachSeriesAndBreaksAtNonFinitePoints) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LineChart c{"Loss <train>", "step", "loss", {{"train loss", {1, 2, 3, 4}, {1.0, 0.5, nan, 0.2}}, {"val", {2, 4}, {0.9, 0.4}}}};
  const std::string svg = line_chart(c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "class=\"series\""), 2u);
  EXPECT_NE(svg.find("data-series=\"train loss\""), std::string::npos);
  EXPECT_NE(svg.find("Loss &lt;train&gt;"), std::string::npos);
  // The NaN splits the training path in two pieces: two move-to commands in it.
  const size_t begin = svg.find("data-series=\"train loss\" d=\"");
  const std::string d = svg.substr(begin, svg.find('"', begin + 28) - begin);
  EXPECT_EQ(count(d, "M"), 2u) << d;
  EXPECT_EQ(count(d, "L"), 1u) << d;
}

TEST(SvgChart, LogScaleSkipsNonPositiveValues) {
  LineChart c{"lr", "step", "lr", {{"lr", {1, 2, 3}, {0.0, 1e-3, 1e-2}}}, /*log_y=*/true};
  const std::string svg = line_chart(c);
  const size_t begin = svg.find(" d=\"");
  const std::string d = svg.substr(begin, svg.find('"', begin + 4) - begin);
  EXPECT_EQ(count(d, "M"), 1u) << d;
  EXPECT_EQ(count(d, "L"), 1u) << d;
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgChart, BarChartDrawsOneBarPerFiniteValue) {
  BarChart c{"usage", "head", "fraction", {"0", "1", "2"}, {{"layer0", {1.0, 0.5, 0.25}}, {"layer1", {0.5, NAN, 1.0}}}};
  const std::string svg = bar_chart(c);
  EXPECT_EQ(count(svg, "class=\"bar\""), 5u);
  EXPECT_NE(svg.find("data-series=\"layer1\""), std::string::npos);
  EXPECT_NE(svg.find("layer0 1: 0.5"), std::string::npos);  // the tooltip of a bar
}

TEST(SvgChart, HeatmapCellsCarryTheirValuesAndMarks) {
  Heatmap m{"example", {"layer0", "layer1"}, {"the", "cat"}, {{0.25, 0.75}, {0.5, 0.5}}, {{0, 1}, {0, 1}}};
  const std::string svg = heatmap(m);
  EXPECT_EQ(count(svg, "class=\"cell\""), 4u);
  EXPECT_NE(svg.find("data-row=\"0\" data-col=\"1\" data-value=\"0.75\""), std::string::npos);
  EXPECT_EQ(count(svg, "(evidence)"), 2u);
  EXPECT_NE(svg.find(">cat</text>"), std::string::npos);
  // Per-row scale: each row's largest value gets the darkest shade.
  EXPECT_EQ(count(svg, "fill=\"#2166b4\""), 3u) << svg;
}

TEST(SvgChart, PatchOverlayHasOneCellPerPatch) {
  PatchOverlay o{"layer0", 8, 8, std::vector<float>(64, 0.5f), 2, 2, {0.1, 0.2, 0.3, 0.4}};
  const std::string svg = patch_overlay(o);
  EXPECT_EQ(count(svg, "class=\"cell\""), 4u);
  EXPECT_NE(svg.find("data-row=\"1\" data-col=\"1\" data-value=\"0.4\""), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity=\"0.75\""), std::string::npos);  // the largest attention
}

}  // namespace
}  // namespace attnlab::report
