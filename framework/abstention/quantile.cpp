#include "framework/abstention/quantile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "framework/abstention/check.h"

namespace attnlab::abstention {

int64_t conformal_rank(int64_t n, double alpha) {
  const double x = static_cast<double>(n + 1) * (1.0 - alpha);
  return static_cast<int64_t>(std::ceil(x - 1e-9 * std::max(1.0, x)));
}

double conformal_quantile(std::vector<double> scores, double alpha, QuantileMode mode) {
  check_alpha(alpha, "conformal_quantile");
  if (scores.empty()) throw std::invalid_argument("conformal_quantile: empty calibration set");
  for (double s : scores)
    if (!std::isfinite(s)) throw std::invalid_argument("conformal_quantile: a score is NaN or infinite");
  const auto n = static_cast<int64_t>(scores.size());
  const int64_t k = std::max<int64_t>(1, conformal_rank(n, alpha));
  std::sort(scores.begin(), scores.end());
  if (mode == QuantileMode::exact) {
    if (k > n) return std::numeric_limits<double>::infinity();
    return scores[static_cast<size_t>(k - 1)];
  }
  // numpy's "higher": virtual index (n-1)·level, rounded up.
  const double level = std::min(1.0, static_cast<double>(k) / static_cast<double>(n));
  auto index = static_cast<int64_t>(std::ceil(static_cast<double>(n - 1) * level));
  index = std::min(index, n - 1);
  return scores[static_cast<size_t>(index)];
}

}  // namespace attnlab::abstention
