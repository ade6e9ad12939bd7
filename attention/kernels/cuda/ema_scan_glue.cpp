// The torch side of the EMA scan kernels (built only against a CUDA LibTorch): argument checks,
// workspaces, the two directions of a bidirectional EMA, and the autograd function whose backward
// is the opposite-direction scan of dy plus the parameter-gradient kernel (cuda/ema_scan.h).
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "attention/kernels/cuda/cuda_glue.h"
#include "attention/kernels/cuda/ema_scan.h"
#include "attention/kernels/cuda_kernels.h"
#include "attention/kernels/ema_scan_emulation.h"

namespace attnlab::attention::kernels {
namespace {

constexpr int64_t kChunk = 64;

EmaScanShape shape_of(const torch::Tensor& x, int64_t ema_dim, bool reverse) {
  EmaScanShape s;
  s.batch = x.size(0);
  s.length = x.size(1);
  s.channels = x.size(2);
  s.ema_dim = ema_dim;
  s.chunk = kChunk;
  s.reverse = reverse;
  return s;
}

// Rows [first, first + D) of a (R, h) coefficient, contiguous float32.
torch::Tensor rows(const torch::Tensor& t, int64_t first, int64_t d) {
  return t.narrow(0, first, d).to(torch::kFloat).contiguous();
}

// The scans of x over every direction of (w, e, q), summed, in float32 (B, T, D). `opposite`
// swaps the directions: the adjoint of a forward scan is the reverse scan with the same weights.
torch::Tensor scan_all_directions(const torch::Tensor& x, const torch::Tensor& w,
                                  const torch::Tensor& e, const torch::Tensor& q, bool opposite) {
  const int64_t d = x.size(2), h = q.size(1), directions = q.size(0) / d;
  auto y = torch::empty(x.sizes(), x.options().dtype(torch::kFloat));
  for (int64_t dir = 0; dir < directions; ++dir) {
    const auto shape = shape_of(x, h, (dir == 1) != opposite);
    auto workspace = torch::empty({ema_scan_workspace_floats(shape)}, y.options());
    const auto wd = rows(w, dir * d, d), ed = rows(e, dir * d, d), qd = rows(q, dir * d, d);
    check_kernel(
        ema_scan_forward(x.data_ptr(), element_type(x), wd.data_ptr<float>(), ed.data_ptr<float>(),
                         qd.data_ptr<float>(), nullptr, y.data_ptr<float>(), dir > 0, nullptr,
                         workspace.data_ptr<float>(), shape, current_stream(x)),
        "ema_scan_forward");
  }
  return y;
}

class EmaScanFunction : public torch::autograd::Function<EmaScanFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w, const torch::Tensor& e,
                               const torch::Tensor& q) {
    ctx->save_for_backward({x, w, e, q});
    return scan_all_directions(x, w, e, q, /*opposite=*/false).to(x.scalar_type());
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &e = saved[2], &q = saved[3];
    const auto dy = grads[0].to(x.scalar_type()).contiguous();
    const int64_t d = x.size(2), h = q.size(1), directions = q.size(0) / d;
    const auto dx = scan_all_directions(dy, w, e, q, /*opposite=*/true).to(x.scalar_type());

    std::vector<torch::Tensor> gw, ge, gq;
    for (int64_t dir = 0; dir < directions; ++dir) {
      const auto shape = shape_of(x, h, dir == 1);
      const auto sums_options = x.options().dtype(torch::kFloat);
      auto grad_u = torch::empty({ema_scan_workspace_floats(shape)}, sums_options);
      auto grad_r = torch::empty_like(grad_u);
      const auto qd = rows(q, dir * d, d);
      check_kernel(ema_scan_parameter_grads(x.data_ptr(), dy.data_ptr(), element_type(x),
                                            qd.data_ptr<float>(), grad_u.data_ptr<float>(),
                                            grad_r.data_ptr<float>(), shape, current_stream(x)),
                   "ema_scan_parameter_grads");
      // The formulas the CPU tests check (ema_scan_emulation.h): s = w u, so dw = e G_u,
      // de = w G_u, dq = w e G_r, summed over b and chunks.
      const int64_t chunks = ema_scan_chunks(shape);
      const auto grads = ema_parameter_grads(
          {grad_u.view({shape.batch, chunks, d, h}), grad_r.view({shape.batch, chunks, d, h})},
          rows(w, dir * d, d), rows(e, dir * d, d));
      gw.push_back(grads.w);
      ge.push_back(grads.e);
      gq.push_back(grads.q);
    }
    const auto as = [](const std::vector<torch::Tensor>& parts, const torch::Tensor& like) {
      return torch::cat(parts, 0).to(like.scalar_type());
    };
    return {dx, as(gw, w), as(ge, e), as(gq, q)};
  }
};

void check_coefficients(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& e,
                        const torch::Tensor& q) {
  const int64_t d = x.size(2);
  TORCH_CHECK(x.dim() == 3 && x.is_cuda(), "ema_scan: x must be (B, T, D) on a CUDA device");
  TORCH_CHECK(q.dim() == 2 && (q.size(0) == d || q.size(0) == 2 * d) && w.sizes() == q.sizes() &&
                  e.sizes() == q.sizes(),
              "ema_scan: w, e, q must be (D, h) or (2D, h) alike, got ", w.sizes(), ", ", e.sizes(),
              ", ", q.sizes());
  TORCH_CHECK(ema_scan_supports(q.size(1)), "ema_scan: unsupported ema_dim ", q.size(1));
}

}  // namespace

bool ema_scan_applies(const torch::Tensor& x, int64_t ema_dim, bool truncated) {
  return cuda_kernels_enabled() && x.is_cuda() && !truncated && ema_scan_supports(ema_dim) &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16);
}

torch::Tensor ema_scan(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& e,
                       const torch::Tensor& q) {
  check_coefficients(x, w, e, q);
  const c10::cuda::CUDAGuard guard(x.device());
  return EmaScanFunction::apply(x.contiguous(), w, e, q);
}

std::pair<torch::Tensor, torch::Tensor> ema_scan_stream(const torch::Tensor& x,
                                                        const torch::Tensor& w,
                                                        const torch::Tensor& e,
                                                        const torch::Tensor& q,
                                                        const torch::Tensor& h0) {
  check_coefficients(x, w, e, q);
  TORCH_CHECK(q.size(0) == x.size(2), "ema_scan_stream: streaming is causal: (D, h) rows only");
  const c10::cuda::CUDAGuard guard(x.device());
  torch::NoGradGuard no_grad;
  const auto xc = x.contiguous();
  const auto shape = shape_of(xc, q.size(1), /*reverse=*/false);
  const auto float_options = xc.options().dtype(torch::kFloat);
  auto y = torch::empty(xc.sizes(), float_options);
  auto last = torch::empty({shape.batch, shape.channels, shape.ema_dim}, float_options);
  auto workspace = torch::empty({ema_scan_workspace_floats(shape)}, float_options);
  const auto wf = w.to(torch::kFloat).contiguous(), ef = e.to(torch::kFloat).contiguous(),
             qf = q.to(torch::kFloat).contiguous();
  const auto h0f = h0.defined() ? h0.to(float_options).contiguous() : torch::Tensor();
  check_kernel(
      ema_scan_forward(xc.data_ptr(), element_type(xc), wf.data_ptr<float>(), ef.data_ptr<float>(),
                       qf.data_ptr<float>(), h0f.defined() ? h0f.data_ptr<float>() : nullptr,
                       y.data_ptr<float>(), false, last.data_ptr<float>(),
                       workspace.data_ptr<float>(), shape, current_stream(xc)),
      "ema_scan_forward");
  return {y.to(x.scalar_type()), last};
}

}  // namespace attnlab::attention::kernels
