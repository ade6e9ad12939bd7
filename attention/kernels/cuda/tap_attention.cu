// The fused tap attention kernels; see tap_attention.h for the equations, shapes and layout.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>

#include "attention/kernels/cuda/tap_attention.h"

namespace attnlab::attention::kernels {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 4;
constexpr int kMaxPerLane = 4;  // head_dim <= 32 * 4

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ void store(float* p, float x) { *p = x; }
__device__ __forceinline__ void store(__nv_bfloat16* p, float x) { *p = __float2bfloat16(x); }

__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2)
    x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;  // every lane holds the sum
}

// The row a warp computes: (b, h), its slot, its query position, and whether it exists.
struct Row {
  int64_t b, h, slot, position;
  bool active;
};

__device__ Row row_of_warp(const TapAttentionInputs& in, const TapAttentionShape& s) {
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  Row r{0, 0, 0, 0, false};
  if (warp >= s.batch * s.heads * s.slots) return r;
  r.slot = warp % s.slots;
  r.h = (warp / s.slots) % s.heads;
  r.b = warp / (s.slots * s.heads);
  if (in.rows) {
    const int64_t bh = r.b * s.heads + r.h;
    if (r.slot >= in.row_count[bh]) return r;  // padding slot of a shorter list
    r.position = in.rows[bh * s.slots + r.slot];
  } else {
    r.position = r.slot;
  }
  r.active = true;
  return r;
}

// Keys [0, end) are candidates for the row; padded keys are skipped inside the loop.
__device__ __forceinline__ int64_t key_end(const Row& r, const TapAttentionShape& s) {
  return s.causal ? min(r.position + 1, s.keys) : s.keys;
}

__device__ __forceinline__ bool key_allowed(const TapAttentionInputs& in, const Row& r, int64_t j,
                                            const TapAttentionShape& s) {
  return !(in.key_padding && in.key_padding[r.b * s.keys + j]);
}

// This lane's elements (lane, lane + 32, ...) of a length-d vector.
template <typename T>
__device__ __forceinline__ void load_lane(const T* row, int lane, int64_t d, float* out) {
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t e = lane + i * kWarp;
    out[i] = e < d ? to_float(row[e]) : 0.0f;
  }
}

template <typename T>
__device__ __forceinline__ float lane_dot(const float* a, const T* row, int lane, int64_t d) {
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t e = lane + i * kWarp;
    if (e < d) sum += a[i] * to_float(row[e]);
  }
  return sum;
}

template <typename T>
__device__ __forceinline__ float score(const TapAttentionInputs& in, const Row& r, int64_t j,
                                       const float* q, int lane, const TapAttentionShape& s) {
  const int64_t bh = r.b * s.heads + r.h;
  const T* k = static_cast<const T*>(in.k) + (bh * s.keys + j) * s.head_dim;
  float value = warp_sum(lane_dot(q, k, lane, s.head_dim)) * s.scale;
  if (in.perturbation) value += in.perturbation[(bh * s.queries + r.position) * s.keys + j];
  return value;
}

template <typename T>
__global__ void forward_kernel(TapAttentionInputs in, T* out, float* lse, float* entropy,
                               TapAttentionShape s) {
  const Row r = row_of_warp(in, s);
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  if (warp >= s.batch * s.heads * s.slots) return;
  const int lane = threadIdx.x % kWarp;
  const int64_t bh = r.b * s.heads + r.h;
  T* out_row = out + warp * s.head_dim;  // (b, h, slot) in (B, H, n, d)
  if (!r.active) {                       // padding slot: zeros, never read
    for (int64_t e = lane; e < s.head_dim; e += kWarp) store(out_row + e, 0.0f);
    if (lane == 0) lse[warp] = -INFINITY, entropy[warp] = 0.0f;
    return;
  }
  float q[kMaxPerLane], acc[kMaxPerLane];
  load_lane(static_cast<const T*>(in.q) + (bh * s.queries + r.position) * s.head_dim, lane,
            s.head_dim, q);
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) acc[i] = 0.0f;
  float m = -INFINITY, l = 0.0f, a = 0.0f;
  const int64_t end = key_end(r, s);
  for (int64_t j = 0; j < end; ++j) {
    if (!key_allowed(in, r, j, s)) continue;
    const float sj = score<T>(in, r, j, q, lane, s);
    const float m_new = fmaxf(m, sj);
    const float rescale = m == -INFINITY ? 0.0f : expf(m - m_new);
    const float e = expf(sj - m_new);
    l = l * rescale + e;
    a = a * rescale + e * sj;
    const T* v = static_cast<const T*>(in.v) + (bh * s.keys + j) * s.head_dim;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int64_t el = lane + i * kWarp;
      acc[i] = acc[i] * rescale + (el < s.head_dim ? e * to_float(v[el]) : 0.0f);
    }
    m = m_new;
  }
  const bool dead = l == 0.0f;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t el = lane + i * kWarp;
    if (el < s.head_dim) store(out_row + el, dead ? 0.0f : acc[i] / l);
  }
  if (lane == 0) {
    lse[warp] = dead ? -INFINITY : m + logf(l);
    entropy[warp] = dead ? 0.0f : (m + logf(l)) - a / l;
  }
}

template <typename T>
__global__ void backward_kernel(TapAttentionInputs in, const T* out, const float* lse,
                                const float* entropy, const T* d_out, const float* d_entropy,
                                float* dq, float* dk, float* dv, float* d_perturbation,
                                TapAttentionShape s) {
  const Row r = row_of_warp(in, s);
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarp;
  if (!r.active || lse[warp] == -INFINITY) return;  // padding slot or dead row: no gradient
  const int lane = threadIdx.x % kWarp;
  const int64_t bh = r.b * s.heads + r.h;
  float q[kMaxPerLane], go[kMaxPerLane], o[kMaxPerLane], gq[kMaxPerLane];
  load_lane(static_cast<const T*>(in.q) + (bh * s.queries + r.position) * s.head_dim, lane,
            s.head_dim, q);
  load_lane(d_out + warp * s.head_dim, lane, s.head_dim, go);
  load_lane(out + warp * s.head_dim, lane, s.head_dim, o);
  float di_part = 0.0f;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    di_part += go[i] * o[i];
    gq[i] = 0.0f;
  }
  const float di = warp_sum(di_part);
  const float row_lse = lse[warp];
  const float g_entropy = d_entropy ? d_entropy[warp] : 0.0f;
  const float mu = row_lse - entropy[warp];  // sum_j p_j s_j
  const int64_t end = key_end(r, s);
  for (int64_t j = 0; j < end; ++j) {
    if (!key_allowed(in, r, j, s)) continue;
    const float sj = score<T>(in, r, j, q, lane, s);
    const float p = expf(sj - row_lse);
    const T* v = static_cast<const T*>(in.v) + (bh * s.keys + j) * s.head_dim;
    const T* k = static_cast<const T*>(in.k) + (bh * s.keys + j) * s.head_dim;
    const float dp = warp_sum(lane_dot(go, v, lane, s.head_dim));
    const float ds = p * (dp - di) - g_entropy * p * (sj - mu);
    float* dk_row = dk + (bh * s.keys + j) * s.head_dim;
    float* dv_row = dv + (bh * s.keys + j) * s.head_dim;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int64_t el = lane + i * kWarp;
      if (el < s.head_dim) {
        gq[i] += ds * s.scale * to_float(k[el]);
        atomicAdd(dk_row + el, ds * s.scale * q[i]);
        atomicAdd(dv_row + el, p * go[i]);
      }
    }
    if (d_perturbation && lane == 0)
      d_perturbation[(bh * s.queries + r.position) * s.keys + j] = ds;
  }
  float* dq_row = dq + (bh * s.queries + r.position) * s.head_dim;
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t el = lane + i * kWarp;
    if (el < s.head_dim) dq_row[el] = gq[i];
  }
}

KernelError check(const TapAttentionInputs& in, const TapAttentionShape& s) {
  if (s.batch < 1 || s.heads < 1 || s.queries < 1 || s.keys < 1 || s.slots < 0)
    return "tap attention: empty shape";
  if (!tap_attention_supports(s.head_dim)) return "tap attention: head_dim must be in [1, 128]";
  if ((in.rows == nullptr) != (in.row_count == nullptr))
    return "tap attention: rows and row_count go together";
  if (!in.rows && s.slots != s.queries) return "tap attention: dense rows need slots == queries";
  if (in.rows && in.perturbation) return "tap attention: a perturbation needs dense rows";
  return nullptr;
}

unsigned blocks_for(const TapAttentionShape& s) {
  const int64_t warps = s.batch * s.heads * s.slots;
  return static_cast<unsigned>((warps + kWarpsPerBlock - 1) / kWarpsPerBlock);
}

KernelError last_error() {
  const cudaError_t status = cudaGetLastError();
  return status == cudaSuccess ? nullptr : cudaGetErrorString(status);
}

}  // namespace

bool tap_attention_supports(int64_t head_dim) {
  return head_dim >= 1 && head_dim <= kWarp * kMaxPerLane;
}

KernelError tap_attention_forward(const TapAttentionInputs& in, ElementType type, void* out,
                                  float* lse, float* entropy, const TapAttentionShape& shape,
                                  cudaStream_t stream) {
  if (KernelError error = check(in, shape)) return error;
  if (shape.slots == 0) return nullptr;
  const dim3 grid(blocks_for(shape)), block(kWarpsPerBlock * kWarp);
  if (type == ElementType::kBFloat16) {
    forward_kernel<<<grid, block, 0, stream>>>(in, static_cast<__nv_bfloat16*>(out), lse, entropy,
                                               shape);
  } else {
    forward_kernel<<<grid, block, 0, stream>>>(in, static_cast<float*>(out), lse, entropy, shape);
  }
  return last_error();
}

KernelError tap_attention_backward(const TapAttentionInputs& in, ElementType type, const void* out,
                                   const float* lse, const float* entropy, const void* d_out,
                                   const float* d_entropy, float* dq, float* dk, float* dv,
                                   float* d_perturbation, const TapAttentionShape& shape,
                                   cudaStream_t stream) {
  if (KernelError error = check(in, shape)) return error;
  if (shape.slots == 0) return nullptr;
  const dim3 grid(blocks_for(shape)), block(kWarpsPerBlock * kWarp);
  if (type == ElementType::kBFloat16) {
    backward_kernel<<<grid, block, 0, stream>>>(in, static_cast<const __nv_bfloat16*>(out), lse,
                                                entropy, static_cast<const __nv_bfloat16*>(d_out),
                                                d_entropy, dq, dk, dv, d_perturbation, shape);
  } else {
    backward_kernel<<<grid, block, 0, stream>>>(in, static_cast<const float*>(out), lse, entropy,
                                                static_cast<const float*>(d_out), d_entropy, dq, dk,
                                                dv, d_perturbation, shape);
  }
  return last_error();
}

}  // namespace attnlab::attention::kernels
