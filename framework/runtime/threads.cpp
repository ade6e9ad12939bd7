// Thread configuration; see threads.h for why OpenMP workers wait passively.
#include "framework/runtime/threads.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
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

namespace {
// Marks a policy attnlab set itself (not the user), so the benchmark can hand Python the user's.
constexpr const char* kSetByAttnlab = "ATTNLAB_SET_OMP_WAIT_POLICY";
}  // namespace

void reexec_with_passive_openmp_workers(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/1) != 0) return;
  setenv(kSetByAttnlab, "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed: this process was loaded without the policy; its children should not differ.
  unsetenv("OMP_WAIT_POLICY");
  unsetenv(kSetByAttnlab);
}

UserOpenMpWaitPolicy::UserOpenMpWaitPolicy() {
  if (std::getenv(kSetByAttnlab) == nullptr) return;
  unsetenv("OMP_WAIT_POLICY");
  removed_ = true;
}

UserOpenMpWaitPolicy::~UserOpenMpWaitPolicy() {
  if (removed_) setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
}

std::string openmp_wait_policy() {
  const char* value = std::getenv("OMP_WAIT_POLICY");
  return value ? value : "";
}

}  // namespace attnlab::runtime
