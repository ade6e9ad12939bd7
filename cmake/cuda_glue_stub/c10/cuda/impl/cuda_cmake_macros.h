// Stand-in for the header a CUDA LibTorch generates at its own build and Debian's CPU LibTorch
// lacks. Used only to syntax-check the CUDA glue (attention/kernels/cuda/*.cpp) on machines
// without a CUDA LibTorch (cmake/cuda_kernels.cmake); a CUDA build uses the real one.
#pragma once
