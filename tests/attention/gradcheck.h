// Finite-difference gradient check for tests: compares autograd's gradient of a scalar function
// f with respect to one tensor p against central differences
//   df/dp_i ~ (f(p + eps e_i) - f(p - eps e_i)) / (2 eps),
// whose truncation error is O(eps^2). Use float64 and a tiny instance (cost: 2 numel(p) forwards).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace attnlab::testing {

struct GradcheckResult {
  double max_abs_error = 0.0;  // max_i |autograd_i - numeric_i|
  double max_abs_grad = 0.0;   // max_i |numeric_i|, to judge the error against
  int64_t checked = 0;         // number of elements compared
};

// `param` must be a CPU float64 tensor with requires_grad (a leaf, e.g. a module parameter, or an
// input made with requires_grad). `f` recomputes the scalar from scratch on every call. The
// function leaves `param` unchanged and its .grad() reset to undefined.
inline GradcheckResult gradcheck(const std::function<torch::Tensor()>& f, torch::Tensor param,
                                 double eps = 1e-6) {
  TORCH_CHECK(param.scalar_type() == torch::kDouble && param.device().is_cpu() &&
                  param.requires_grad() && param.is_contiguous(),
              "gradcheck: param must be a contiguous CPU float64 tensor requiring grad");
  param.mutable_grad() = torch::Tensor();
  f().backward();
  const auto analytic = param.grad().detach().clone().contiguous();
  param.mutable_grad() = torch::Tensor();

  GradcheckResult result;
  torch::NoGradGuard no_grad;
  double* data = param.data_ptr<double>();
  const double* grad = analytic.data_ptr<double>();
  for (int64_t i = 0; i < param.numel(); ++i) {
    const double saved = data[i];
    data[i] = saved + eps;
    const double plus = f().item<double>();
    data[i] = saved - eps;
    const double minus = f().item<double>();
    data[i] = saved;
    const double numeric = (plus - minus) / (2.0 * eps);
    result.max_abs_error = std::max(result.max_abs_error, std::abs(numeric - grad[i]));
    result.max_abs_grad = std::max(result.max_abs_grad, std::abs(numeric));
    ++result.checked;
  }
  return result;
}

}  // namespace attnlab::testing
