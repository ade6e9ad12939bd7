// Thread configuration (see threads.h for why OpenBLAS gets one thread).
#include "framework/runtime/threads.h"

#include <dlfcn.h>

#include <algorithm>
#include <thread>

#include <torch/torch.h>

namespace attnlab::runtime {

int configure_threads(int threads, int blas_threads) {
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  // Looked up at run time: the BLAS behind Debian's torch is chosen by update-alternatives, and
  // only OpenBLAS has this entry point.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(blas_threads > 0 ? blas_threads : n);
  return n;
}

}  // namespace attnlab::runtime
