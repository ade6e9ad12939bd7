// The Mega EMA as a chunked scan on the GPU (notes §2.2 and §3.3; ema.h for the equations).
// Per channel d and expansion index n, with real states s:
//   s_t = w_n x_t + q_n s_{t-1},   y_t = sum_n e_n s_{t,n}        (forward direction)
// and the same with t running from the end in the reverse direction. The module passes
// w = p * beta, e = gamma / sqrt(h), q = 1 - p * damping.
// The sequence is cut into chunks of `chunk` steps:
//   1. every (b, chunk, d) runs the recurrence from zero and keeps its end state;
//   2. every (b, d, n) carries the state across chunks: a_{c+1} = q^C a_c + end_c (a_0 = h0);
//   3. every (b, chunk, d) reruns its chunk from a_c and writes y.
// so the work is parallel over B * T/C * D instead of B * D, at twice the arithmetic of one pass.
// The gradient kernel runs the unit-input recurrences  u_t = x_t + q u_{t-1}  and their
// derivative in q,  r_t = q r_{t-1} + u_{t-1},  the same way, and reduces per (b, chunk):
//   G_u[n] = sum_t dy_t u_t,   G_r[n] = sum_t dy_t r_t
// from which (with h0 = 0, s = w u): dL/dw = e G_u, dL/de = w G_u, dL/dq = w e G_r. The gradient
// with respect to x is the scan of dy in the opposite direction with the same w, e, q.
// Shapes: x, dy (B, T, D) of ElementType, row-major; w, e, q (D, h) float; y (B, T, D) float;
// h0, last_state (B, D, h) float; G_u, G_r (B, ceil(T/C), D, h) float. h must be 1, 2, 4, 8, 16
// or 32 (ema_scan_supports).
#pragma once

#include <cuda_runtime_api.h>

#include "attention/kernels/cuda/kernel_types.h"

namespace attnlab::attention::kernels {

struct EmaScanShape {
  int64_t batch = 0;
  int64_t length = 0;    // T
  int64_t channels = 0;  // D
  int64_t ema_dim = 0;   // h
  int64_t chunk = 64;    // C
  bool reverse = false;  // t runs from T - 1 down to 0
};

bool ema_scan_supports(int64_t ema_dim);
int64_t ema_scan_chunks(const EmaScanShape& shape);  // ceil(T / C)

// Workspace the scan needs: ema_scan_workspace_floats(shape) floats.
int64_t ema_scan_workspace_floats(const EmaScanShape& shape);

// y (+)= scan of x. `accumulate` adds to y instead of overwriting it (the two directions of a
// bidirectional EMA share one output). h0 and last_state may be null (zeros / not wanted).
KernelError ema_scan_forward(const void* x, ElementType type, const float* w, const float* e,
                             const float* q, const float* h0, float* y, bool accumulate,
                             float* last_state, float* workspace, const EmaScanShape& shape,
                             cudaStream_t stream);

// Only the state after the last step (streaming): phases 1 and 2.
KernelError ema_scan_last_state(const void* x, ElementType type, const float* w, const float* q,
                                const float* h0, float* last_state, float* workspace,
                                const EmaScanShape& shape, cudaStream_t stream);

// The per-(b, chunk) partial sums G_u and G_r above, for x and dy of the same type; grad_u and
// grad_r (ema_scan_workspace_floats(shape) floats each) also serve as the scan's workspace.
KernelError ema_scan_parameter_grads(const void* x, const void* dy, ElementType type,
                                     const float* q, float* grad_u, float* grad_r,
                                     const EmaScanShape& shape, cudaStream_t stream);

}  // namespace attnlab::attention::kernels
