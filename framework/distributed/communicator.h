// The process group of a data-parallel job on PyTorch's own c10d: a TCPStore rendezvous hosted by
// rank 0 and a Gloo process group over it (CPU tensors; NCCL for CUDA is not built yet). Every
// operation waits at most `timeout_s`: a rank that crashed or hangs makes the others fail with a
// DistributedError naming the operation, well before Gloo's default of 30 minutes.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "framework/distributed/environment.h"
#include "framework/distributed/settings.h"

#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

namespace c10d {
class ProcessGroupGloo;
}  // namespace c10d

namespace attnlab::distributed {

// A collective or the rendezvous failed: a peer died, hung past the timeout, or disagreed.
// `attnlab` reports it as one line and exits with code 1.
class DistributedError : public std::runtime_error {
 public:
  explicit DistributedError(const std::string& message) : std::runtime_error(message) {}
};

// An all-reduce in flight.
class PendingReduce {
 public:
  PendingReduce() = default;
  explicit PendingReduce(c10::intrusive_ptr<c10d::Work> work, std::string what, int64_t rank);
  // Waits for it; DistributedError when it failed or timed out.
  void wait();

 private:
  c10::intrusive_ptr<c10d::Work> work_;
  std::string what_;
  int64_t rank_ = 0;
};

class Communicator {
 public:
  // Rendezvous of `env.world_size` processes at env.master_addr:master_port (rank 0 hosts the
  // store). DistributedError when the others do not arrive within the timeout.
  static std::unique_ptr<Communicator> connect(const Environment& env, const DistributedSettings& settings);
  ~Communicator();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }

  // In-place sum over ranks of a CPU tensor; `what` names it in errors.
  PendingReduce allreduce_sum_async(torch::Tensor& tensor, const std::string& what);
  void allreduce_sum(torch::Tensor& tensor, const std::string& what);
  // rank `root`'s values into `tensor` on every rank.
  void broadcast(torch::Tensor& tensor, const std::string& what, int64_t root = 0);
  // Every rank's `bytes`, in rank order, on rank 0 (through the store); empty on the others.
  // `tag` must be the same on every rank and new for every call.
  std::vector<std::string> gather_to_lead(const std::string& tag, const std::string& bytes);
  void barrier(const std::string& what);
  // Every rank passes its `value` of `what` (the same `what` on every rank: it keys the store);
  // DistributedError on every rank when some rank's value differs from rank 0's, naming the ranks
  // and values (e.g. the hash of the resolved recipe).
  void check_same(const std::string& what, const std::string& value);

 private:
  Communicator();
  int64_t rank_ = 0, world_size_ = 1;
  double timeout_s_ = 120;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
};

}  // namespace attnlab::distributed
