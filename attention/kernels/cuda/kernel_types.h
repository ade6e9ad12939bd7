// Plain types shared by the CUDA kernels and their callers. Torch-free and CUDA-free, so the
// dispatch code of every build (CPU or CUDA LibTorch) and the .cu files agree on them
// (DESIGN.md §7: kernels take raw pointers, sizes and a stream).
#pragma once

#include <cstdint>

namespace attnlab::attention::kernels {

// The element type of a kernel's activations (inputs and outputs). Parameters, states and
// accumulators are always float32.
enum class ElementType { kFloat32, kBFloat16 };

// A failed launch or an unsupported argument, as a message (nullptr when none). Kernels never
// throw: the torch-side glue turns a message into a TORCH_CHECK.
using KernelError = const char*;

}  // namespace attnlab::attention::kernels
