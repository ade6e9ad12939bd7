// The median the benchmarks report (the mean of the two middle values for an even count).
#pragma once

#include <algorithm>
#include <vector>

namespace attnlab::tools {

// `values` must not be empty.
inline double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace attnlab::tools
