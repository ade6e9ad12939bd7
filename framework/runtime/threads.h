// CPU threading for a run: torch's intra-op threads from the recipe, and OpenBLAS kept to one
// thread. Debian's LibTorch calls OpenBLAS from inside its own parallel regions; letting both
// spawn threads on a 2-core machine oversubscribes it (the quickstart ran 3x slower, mostly in
// the kernel, with both at 2 threads).
#pragma once

namespace attnlab::runtime {

// Sets torch's intra-op threads to `threads` (0: all cores) and OpenBLAS's to `blas_threads`
// (0: the same as torch's) when OpenBLAS is the BLAS in use. Returns the thread count set.
int configure_threads(int threads, int blas_threads = 1);

}  // namespace attnlab::runtime
