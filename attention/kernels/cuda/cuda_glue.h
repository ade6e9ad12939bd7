// Small helpers of the torch-side glue (built only against a CUDA LibTorch): the element type of
// a tensor, the stream to launch on, and a kernel's error message as a TORCH_CHECK.
#pragma once

#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>

#include "attention/kernels/cuda/kernel_types.h"

namespace attnlab::attention::kernels {

inline ElementType element_type(const torch::Tensor& t) {
  TORCH_CHECK(t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16,
              "cuda kernels take float32 or bfloat16 activations, got ", t.scalar_type());
  return t.scalar_type() == torch::kBFloat16 ? ElementType::kBFloat16 : ElementType::kFloat32;
}

// The stream PyTorch is using on t's device, so kernels order with the surrounding ATen ops.
inline cudaStream_t current_stream(const torch::Tensor& t) {
  return c10::cuda::getCurrentCUDAStream(t.device().index()).stream();
}

inline void check_kernel(KernelError error, const char* kernel) {
  TORCH_CHECK(error == nullptr, kernel, ": ", error ? error : "");
}

}  // namespace attnlab::attention::kernels
