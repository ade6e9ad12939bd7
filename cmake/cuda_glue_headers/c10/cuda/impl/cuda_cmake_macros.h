// The header a CUDA LibTorch generates at its own build and Debian's CPU LibTorch lacks. It holds
// only build-time macros (whether c10_cuda is a shared library), which change symbol visibility,
// not syntax, so an empty one lets the CUDA glue (attention/kernels/cuda/*.cpp) be syntax-checked
// on machines without a CUDA LibTorch (cmake/cuda_kernels.cmake). A CUDA build uses the real one.
#pragma once
