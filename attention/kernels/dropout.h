// Inverted dropout for CPU tensors whose mask is a counter-based hash, not a stored tensor.
//
// Why: LibTorch's CPU dropout draws its mask with bernoulli_, which runs serially, one double per
// element, then divides and multiplies in two more passes; in the medium ListOps encoder it took
// 12% of a training step (LibTorch profiler; attention/kernels/README.md). Here element i of a
// call is kept when the SplitMix64 output for (seed, i / 2) -- 32 bits per element -- is at or
// above p * 2^32. One parallel pass makes the output; the backward pass recomputes the same mask
// from the seed instead of keeping a mask tensor alive until backward.
//
// The seed is one 64-bit draw from LibTorch's default CPU generator per call, so runs are
// reproducible under torch::manual_seed and resume like any other use of that generator. CUDA
// tensors use torch::dropout (its fused kernel), so the masks differ between devices.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace attnlab::attention::kernels {

// y = x * keep / (1 - p) while training with p > 0; x itself otherwise. Differentiable in x.
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// The keep mask of a call with this seed, as 0/1 in x's shape (contiguous order), and the same
// mask computed one element at a time (the plain reference the tests compare against).
torch::Tensor dropout_keep_mask(const torch::Tensor& x, double p, uint64_t seed);
torch::Tensor dropout_keep_mask_reference(const torch::Tensor& x, double p, uint64_t seed);

// The forward of one call with a given seed (what dropout() does after drawing its seed).
torch::Tensor dropout_with_seed(const torch::Tensor& x, double p, uint64_t seed);

}  // namespace attnlab::attention::kernels
