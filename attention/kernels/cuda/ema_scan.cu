// The chunked-scan EMA kernels; see ema_scan.h for the algorithm, the shapes and the three phases.
// One thread per (b, chunk, d) holds the h states of its channel in registers (h is a template
// argument so the arrays stay in registers); consecutive threads take consecutive channels, so each
// time step reads a coalesced row of x. Arithmetic is float32 for every element type.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <type_traits>

#include "attention/kernels/cuda/ema_scan.h"

namespace attnlab::attention::kernels {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}

// The time index of step k of the scan (k counts in scan order).
__device__ __forceinline__ int64_t time_index(int64_t k, const EmaScanShape& s) {
  return s.reverse ? s.length - 1 - k : k;
}

struct ThreadSlot {
  int64_t b, c, d;
  int64_t first, steps;  // scan steps [first, first + steps) belong to chunk c
};

__device__ __forceinline__ bool slot_of_thread(const EmaScanShape& s, int64_t chunks,
                                               ThreadSlot* slot) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= s.batch * chunks * s.channels) return false;
  slot->d = i % s.channels;
  slot->c = (i / s.channels) % chunks;
  slot->b = i / (s.channels * chunks);
  slot->first = slot->c * s.chunk;
  slot->steps = min(s.chunk, s.length - slot->first);
  return true;
}

// (B, chunks, D, h) index of state n of a slot.
__device__ __forceinline__ int64_t state_index(const ThreadSlot& t, int64_t n, int64_t chunks,
                                               const EmaScanShape& s) {
  return ((t.b * chunks + t.c) * s.channels + t.d) * s.ema_dim + n;
}

// Phase 1: the end state of every chunk started from zero. Unit input weight when w == nullptr
// (the gradient kernel's u); with `with_r`, also the end state of r_t = q r_{t-1} + u_{t-1}.
template <typename T, int H>
__global__ void chunk_end_states(const T* x, const float* w, const float* q, float* end_u,
                                 float* end_r, bool with_r, EmaScanShape s, int64_t chunks) {
  ThreadSlot slot;
  if (!slot_of_thread(s, chunks, &slot)) return;
  float qn[H], wn[H], u[H], r[H];
#pragma unroll
  for (int n = 0; n < H; ++n) {
    qn[n] = q[slot.d * H + n];
    wn[n] = w ? w[slot.d * H + n] : 1.0f;
    u[n] = 0.0f;
    r[n] = 0.0f;
  }
  for (int64_t k = 0; k < slot.steps; ++k) {
    const float xv =
        load(x, (slot.b * s.length + time_index(slot.first + k, s)) * s.channels + slot.d);
#pragma unroll
    for (int n = 0; n < H; ++n) {
      r[n] = qn[n] * r[n] + u[n];  // uses u_{t-1}: before u is updated
      u[n] = qn[n] * u[n] + wn[n] * xv;
    }
  }
#pragma unroll
  for (int n = 0; n < H; ++n) {
    end_u[state_index(slot, n, chunks, s)] = u[n];
    if (with_r) end_r[state_index(slot, n, chunks, s)] = r[n];
  }
}

// Phase 2, one thread per (b, d, n): replaces each chunk's end state by the state entering it,
// in place. Over a chunk of C steps from (a, b) with zero input, u ends at q^C a and r at
// q^C b + C q^(C-1) a; the chunk's own contribution is its end state from zero.
__global__ void carry_states(float* states_u, float* states_r, const float* q, const float* h0,
                             float* last_state, EmaScanShape s, int64_t chunks) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= s.batch * s.channels * s.ema_dim) return;
  const int64_t n = i % s.ema_dim;
  const int64_t d = (i / s.ema_dim) % s.channels;
  const int64_t b = i / (s.ema_dim * s.channels);
  const float qn = q[d * s.ema_dim + n];
  float a = h0 ? h0[i] : 0.0f;  // h0 and last_state are (B, D, h): index i
  float r = 0.0f;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t at = ((b * chunks + c) * s.channels + d) * s.ema_dim + n;
    const float steps = static_cast<float>(min(s.chunk, s.length - c * s.chunk));
    const float q_pow = powf(qn, steps);
    const float end_u = states_u[at];
    states_u[at] = a;
    if (states_r) {
      const float end_r = states_r[at];
      states_r[at] = r;
      r = q_pow * r + steps * powf(qn, steps - 1.0f) * a + end_r;
    }
    a = q_pow * a + end_u;
  }
  if (last_state) last_state[i] = a;
}

// Phase 3 of the forward: rerun each chunk from the state entering it and write y.
template <typename T, int H>
__global__ void chunk_outputs(const T* x, const float* w, const float* e, const float* q,
                              const float* states_in, float* y, bool accumulate, EmaScanShape s,
                              int64_t chunks) {
  ThreadSlot slot;
  if (!slot_of_thread(s, chunks, &slot)) return;
  float qn[H], wn[H], en[H], st[H];
#pragma unroll
  for (int n = 0; n < H; ++n) {
    qn[n] = q[slot.d * H + n];
    wn[n] = w[slot.d * H + n];
    en[n] = e[slot.d * H + n];
    st[n] = states_in[state_index(slot, n, chunks, s)];
  }
  for (int64_t k = 0; k < slot.steps; ++k) {
    const int64_t at = (slot.b * s.length + time_index(slot.first + k, s)) * s.channels + slot.d;
    const float xv = load(x, at);
    float out = 0.0f;
#pragma unroll
    for (int n = 0; n < H; ++n) {
      st[n] = qn[n] * st[n] + wn[n] * xv;
      out += en[n] * st[n];
    }
    y[at] = accumulate ? y[at] + out : out;
  }
}

// Phase 3 of the gradient: rerun u and r from the states entering the chunk and reduce
// sum_t dy_t u_t and sum_t dy_t r_t per (b, chunk, d, n), in place of the entering states.
template <typename T, int H>
__global__ void chunk_parameter_grads(const T* x, const T* dy, const float* q, float* states_u,
                                      float* states_r, EmaScanShape s, int64_t chunks) {
  ThreadSlot slot;
  if (!slot_of_thread(s, chunks, &slot)) return;
  float qn[H], u[H], r[H], gu[H], gr[H];
#pragma unroll
  for (int n = 0; n < H; ++n) {
    qn[n] = q[slot.d * H + n];
    u[n] = states_u[state_index(slot, n, chunks, s)];
    r[n] = states_r[state_index(slot, n, chunks, s)];
    gu[n] = 0.0f;
    gr[n] = 0.0f;
  }
  for (int64_t k = 0; k < slot.steps; ++k) {
    const int64_t at = (slot.b * s.length + time_index(slot.first + k, s)) * s.channels + slot.d;
    const float xv = load(x, at);
    const float g = load(dy, at);
#pragma unroll
    for (int n = 0; n < H; ++n) {
      r[n] = qn[n] * r[n] + u[n];
      u[n] = qn[n] * u[n] + xv;
      gu[n] += g * u[n];
      gr[n] += g * r[n];
    }
  }
#pragma unroll
  for (int n = 0; n < H; ++n) {
    states_u[state_index(slot, n, chunks, s)] = gu[n];
    states_r[state_index(slot, n, chunks, s)] = gr[n];
  }
}

int blocks_for(int64_t threads) { return static_cast<int>((threads + kThreads - 1) / kThreads); }

KernelError last_error() {
  const cudaError_t status = cudaGetLastError();
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

KernelError check_shape(const EmaScanShape& s) {
  if (s.batch < 1 || s.length < 1 || s.channels < 1) return "ema scan: empty input";
  if (s.chunk < 1) return "ema scan: chunk must be >= 1";
  if (!ema_scan_supports(s.ema_dim)) return "ema scan: ema_dim must be 1, 2, 4, 8, 16 or 32";
  return nullptr;
}

// Calls f(std::integral_constant<int, H>) for the runtime ema_dim.
template <typename F>
void with_ema_dim(int64_t h, F&& f) {
  switch (h) {
    case 1:
      f(std::integral_constant<int, 1>{});
      break;
    case 2:
      f(std::integral_constant<int, 2>{});
      break;
    case 4:
      f(std::integral_constant<int, 4>{});
      break;
    case 8:
      f(std::integral_constant<int, 8>{});
      break;
    case 16:
      f(std::integral_constant<int, 16>{});
      break;
    case 32:
      f(std::integral_constant<int, 32>{});
      break;
    default:
      break;
  }
}

template <typename T>
KernelError phases_1_2(const T* x, const float* w, const float* q, const float* h0,
                       float* last_state, float* states, const EmaScanShape& s,
                       cudaStream_t stream) {
  const int64_t chunks = ema_scan_chunks(s);
  with_ema_dim(s.ema_dim, [&](auto h) {
    chunk_end_states<T, decltype(h)::value>
        <<<blocks_for(s.batch * chunks * s.channels), kThreads, 0, stream>>>(
            x, w, q, states, nullptr, false, s, chunks);
  });
  carry_states<<<blocks_for(s.batch * s.channels * s.ema_dim), kThreads, 0, stream>>>(
      states, nullptr, q, h0, last_state, s, chunks);
  return last_error();
}

template <typename T>
KernelError forward_typed(const T* x, const float* w, const float* e, const float* q,
                          const float* h0, float* y, bool accumulate, float* last_state,
                          float* states, const EmaScanShape& s, cudaStream_t stream) {
  if (KernelError error = phases_1_2(x, w, q, h0, last_state, states, s, stream)) return error;
  const int64_t chunks = ema_scan_chunks(s);
  with_ema_dim(s.ema_dim, [&](auto h) {
    chunk_outputs<T, decltype(h)::value>
        <<<blocks_for(s.batch * chunks * s.channels), kThreads, 0, stream>>>(x, w, e, q, states, y,
                                                                             accumulate, s, chunks);
  });
  return last_error();
}

template <typename T>
KernelError grads_typed(const T* x, const T* dy, const float* q, float* grad_u, float* grad_r,
                        const EmaScanShape& s, cudaStream_t stream) {
  const int64_t chunks = ema_scan_chunks(s);
  const int blocks = blocks_for(s.batch * chunks * s.channels);
  with_ema_dim(s.ema_dim, [&](auto h) {
    chunk_end_states<T, decltype(h)::value>
        <<<blocks, kThreads, 0, stream>>>(x, nullptr, q, grad_u, grad_r, true, s, chunks);
  });
  carry_states<<<blocks_for(s.batch * s.channels * s.ema_dim), kThreads, 0, stream>>>(
      grad_u, grad_r, q, nullptr, nullptr, s, chunks);
  with_ema_dim(s.ema_dim, [&](auto h) {
    chunk_parameter_grads<T, decltype(h)::value>
        <<<blocks, kThreads, 0, stream>>>(x, dy, q, grad_u, grad_r, s, chunks);
  });
  return last_error();
}

}  // namespace

bool ema_scan_supports(int64_t ema_dim) {
  return ema_dim == 1 || ema_dim == 2 || ema_dim == 4 || ema_dim == 8 || ema_dim == 16 ||
         ema_dim == 32;
}

int64_t ema_scan_chunks(const EmaScanShape& shape) {
  return (shape.length + shape.chunk - 1) / shape.chunk;
}

int64_t ema_scan_workspace_floats(const EmaScanShape& shape) {
  return shape.batch * ema_scan_chunks(shape) * shape.channels * shape.ema_dim;
}

KernelError ema_scan_forward(const void* x, ElementType type, const float* w, const float* e,
                             const float* q, const float* h0, float* y, bool accumulate,
                             float* last_state, float* workspace, const EmaScanShape& shape,
                             cudaStream_t stream) {
  if (KernelError error = check_shape(shape)) return error;
  if (type == ElementType::kBFloat16) {
    return forward_typed(static_cast<const __nv_bfloat16*>(x), w, e, q, h0, y, accumulate,
                         last_state, workspace, shape, stream);
  }
  return forward_typed(static_cast<const float*>(x), w, e, q, h0, y, accumulate, last_state,
                       workspace, shape, stream);
}

KernelError ema_scan_last_state(const void* x, ElementType type, const float* w, const float* q,
                                const float* h0, float* last_state, float* workspace,
                                const EmaScanShape& shape, cudaStream_t stream) {
  if (KernelError error = check_shape(shape)) return error;
  if (type == ElementType::kBFloat16) {
    return phases_1_2(static_cast<const __nv_bfloat16*>(x), w, q, h0, last_state, workspace, shape,
                      stream);
  }
  return phases_1_2(static_cast<const float*>(x), w, q, h0, last_state, workspace, shape, stream);
}

KernelError ema_scan_parameter_grads(const void* x, const void* dy, ElementType type,
                                     const float* q, float* grad_u, float* grad_r,
                                     const EmaScanShape& shape, cudaStream_t stream) {
  if (KernelError error = check_shape(shape)) return error;
  if (type == ElementType::kBFloat16) {
    return grads_typed(static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(dy),
                       q, grad_u, grad_r, shape, stream);
  }
  return grads_typed(static_cast<const float*>(x), static_cast<const float*>(dy), q, grad_u, grad_r,
                     shape, stream);
}

}  // namespace attnlab::attention::kernels
