// Part of the CUDA build only (see cuda_kernels_unavailable.cpp for the other builds).
#include "attention/kernels/cuda_kernels.h"

namespace attnlab::attention::kernels {
bool cuda_kernels_built() { return true; }
}  // namespace attnlab::attention::kernels
