// CPU threading for a run: torch's intra-op threads and OpenBLAS's threads from the recipe, and
// OpenMP workers that sleep instead of spinning when they run out of work.
//
// Why both: Debian's LibTorch runs elementwise ops in OpenMP (libgomp) regions and matrix products
// in OpenBLAS's own pthreads. libgomp's default lets a worker spin for a while after each region,
// so an OpenBLAS thread starting right after competes with it for a core. With spinning workers,
// the quickstart ran 3-4x slower with OpenBLAS at 2 threads than at 1 -- hence the old default of
// one OpenBLAS thread, which halves every large matrix product on 2 cores. With passive workers
// both can have every core: the medium ListOps encoder trains 1.2x faster than with spinning
// workers and one BLAS thread (README, "Performance").
#pragma once

#include <string>

namespace attnlab::runtime {

// Sets torch's intra-op threads to `threads` (0: all cores) and OpenBLAS's to `blas_threads`
// (0: the same as torch's) when OpenBLAS is the BLAS in use. Returns the thread count set.
int configure_threads(int threads, int blas_threads = 0);

// libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main() runs. Called first thing
// in main(): when the variable is unset, sets it to PASSIVE and re-executes this program with
// the same arguments (child processes inherit it, so it happens once). A value the user set is
// kept. Returns only when no re-execution happened (already set, or exec failed: the run goes on
// with spinning workers, slower but correct).
void reexec_with_passive_openmp_workers(char** argv);

// OMP_WAIT_POLICY as this process runs with ("" when unset), for run_info.json.
std::string openmp_wait_policy();

// For the benchmark's Python side, which should run as a Python user's would: while this lives,
// children start with the OMP_WAIT_POLICY the user gave attnlab (unset, when attnlab set it).
class UserOpenMpWaitPolicy {
 public:
  UserOpenMpWaitPolicy();
  ~UserOpenMpWaitPolicy();
  UserOpenMpWaitPolicy(const UserOpenMpWaitPolicy&) = delete;
  UserOpenMpWaitPolicy& operator=(const UserOpenMpWaitPolicy&) = delete;

 private:
  bool removed_ = false;
};

}  // namespace attnlab::runtime
