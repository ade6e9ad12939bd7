// The split-conformal threshold from calibration scores (notes §3 "Finite-sample quantile", §7.1).
//
// k = ceil((n+1)(1 - alpha)); the product is ceiled after subtracting 1e-9 relative, so that
// e.g. (99+1)(1-0.1) = 90.000000000000014 in floating point gives k = 90, not 91.
//   exact:        q = the k-th smallest score (1-based); q = +inf when k > n (every label is in the
//                 set). This is TorchCP's kthvalue rule, the finite-sample guarantee's quantile.
//   numpy_higher: q = np.quantile(s, min(k/n, 1), method="higher") as vlm-uncertainty and the
//                 dual-threshold code compute it: 0-based index ceil((n-1)·min(k/n,1)).
// Where they differ (notes §3 "Pitfall"): for k < n numpy_higher returns the (k+1)-th smallest
// value (one order statistic higher, conservative); for k == n both return the maximum; for k > n
// exact returns +inf while numpy_higher (level clipped to 1) returns the maximum.
#pragma once

#include <cstdint>
#include <vector>

namespace attnlab::abstention {

enum class QuantileMode { exact, numpy_higher };

// k = ceil((n+1)(1-alpha)) for n >= 1 and alpha in (0, 1); may exceed n.
int64_t conformal_rank(int64_t n, double alpha);

// Throws std::invalid_argument on an empty score list, a non-finite score or alpha outside (0, 1).
double conformal_quantile(std::vector<double> scores, double alpha,
                          QuantileMode mode = QuantileMode::exact);

}  // namespace attnlab::abstention
