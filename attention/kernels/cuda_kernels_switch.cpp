// The process-wide on/off switch of the CUDA kernels (cuda_kernels.h), in every build.
#include <atomic>

#include "attention/kernels/cuda_kernels.h"

namespace attnlab::attention::kernels {
namespace {
std::atomic<bool> enabled{true};
}  // namespace

void set_cuda_kernels_enabled(bool on) { enabled.store(on); }
bool cuda_kernels_enabled() { return enabled.load(); }

}  // namespace attnlab::attention::kernels
