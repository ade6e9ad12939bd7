// Data-parallel gradient averaging, the part of PyTorch's DistributedDataParallel that LibTorch's
// C++ API lacks (its Reducer lives in the Python bindings).
//
// Parameters are grouped in reverse registration order (roughly the order backward produces their
// gradients) into buckets of at most `bucket_mb` MiB. During the backward of an optimizer step's
// last micro-batch (`arm()` before it) a hook on each parameter copies its accumulated gradient
// (earlier micro-batches' .grad plus the incoming one) into its bucket; a full bucket is all-reduced
// at once, asynchronously, while backward goes on, so communication overlaps computation. Buckets
// are launched strictly in index order, because Gloo pairs the ranks' collectives by call order.
// `finish()` fills what backward never reached (parameters this rank did not use), launches the rest,
// waits, and writes sum / world_size back into each .grad. Each bucket carries one extra slot per
// parameter counting the ranks that produced a gradient for it: a parameter no rank used keeps an
// undefined .grad, as in a single process, so optimizers skip it the same way.
// Micro-batches before the last leave the hooks disarmed: no communication during accumulation.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "framework/distributed/communicator.h"

namespace attnlab::distributed {

struct SyncTimings {
  double wait_ms = 0.0;      // in finish(): waiting for reductions still in flight
  int64_t buckets = 0;
  int64_t launched_during_backward = 0;  // buckets that started before backward ended (overlap)
};

class GradientSynchronizer {
 public:
  GradientSynchronizer(Communicator& comm, std::vector<torch::Tensor> params, double bucket_mb);
  ~GradientSynchronizer();
  GradientSynchronizer(const GradientSynchronizer&) = delete;
  GradientSynchronizer& operator=(const GradientSynchronizer&) = delete;

  // Rank 0's values of every parameter (and of `buffers`) on all ranks.
  void broadcast_parameters(const std::vector<torch::Tensor>& buffers);
  // The next backward is the optimizer step's last: hooks copy and launch buckets.
  void arm();
  // After that backward: every .grad averaged over ranks. DistributedError if a peer failed.
  void finish();
  const SyncTimings& timings() const { return timings_; }
  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;  // into the bucket's flat buffer
    int64_t numel = 0;
    size_t index = 0;    // position in the bucket (its usage-count slot)
  };
  struct Bucket {
    std::vector<size_t> params;
    int64_t numel = 0;
    torch::Tensor flat;       // numel gradient values, then one usage count per parameter
    int64_t ready = 0;
    bool launched = false;
    PendingReduce pending;
  };
  void on_gradient(size_t param, const torch::Tensor& grad);
  void launch_ready_buckets();
  void launch(size_t bucket);

  Communicator& comm_;
  std::vector<torch::Tensor> params_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  std::vector<bool> seen_;  // this backward
  size_t next_launch_ = 0;
  bool armed_ = false;
  bool in_backward_ = false;
  SyncTimings timings_;
};

}  // namespace attnlab::distributed
