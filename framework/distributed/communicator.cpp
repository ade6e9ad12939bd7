// Gloo is compiled into LibTorch, but its header is guarded by the macro its build defines.
#define USE_C10D_GLOO 1
#include "framework/distributed/communicator.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

namespace attnlab::distributed {
namespace {

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

PendingReduce::PendingReduce(c10::intrusive_ptr<c10d::Work> work, std::string what, int64_t rank)
    : work_(std::move(work)), what_(std::move(what)), rank_(rank) {}

void PendingReduce::wait() {
  if (!work_) return;
  auto work = std::move(work_);
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": " + what_ +
                           " failed; another rank probably died or hung (" + first_line(e.what()) + ")");
  }
}

std::unique_ptr<Communicator> Communicator::connect(const Environment& env, const DistributedSettings& settings) {
  std::unique_ptr<Communicator> c(new Communicator());
  c->rank_ = env.rank;
  c->world_size_ = env.world_size;
  c->timeout_s_ = settings.timeout_s;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;
    options.timeout = millis(settings.timeout_s);
    c->store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + ": rendezvous at " + where + " failed within " +
                           std::to_string(static_cast<int>(settings.timeout_s)) + " s (distributed.timeout_s): " +
                           first_line(e.what()));
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(millis(settings.timeout_s));
    // Loopback for a single host; the master's address otherwise (it resolves to this host's
    // interface on the master and is reachable from the others).
    const bool local = env.local_world_size == env.world_size;
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(local ? "127.0.0.1" : env.master_addr));
    c->group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(c->store_, static_cast<int>(env.rank),
                                                            static_cast<int>(env.world_size), options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + ": could not set up the Gloo process group: " +
                           first_line(e.what()));
  }
  return c;
}

Communicator::Communicator() = default;
Communicator::~Communicator() = default;

PendingReduce Communicator::allreduce_sum_async(torch::Tensor& tensor, const std::string& what) {
  std::vector<torch::Tensor> tensors = {tensor};
  try {
    return PendingReduce(group_->allreduce(tensors), what, rank_);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": " + what + " failed: " + first_line(e.what()));
  }
}

void Communicator::allreduce_sum(torch::Tensor& tensor, const std::string& what) {
  allreduce_sum_async(tensor, what).wait();
}

void Communicator::broadcast(torch::Tensor& tensor, const std::string& what, int64_t root) {
  std::vector<torch::Tensor> tensors = {tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  PendingReduce pending;
  try {
    pending = PendingReduce(group_->broadcast(tensors, options), what, rank_);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": " + what + " failed: " + first_line(e.what()));
  }
  pending.wait();
}

void Communicator::barrier(const std::string& what) {
  PendingReduce pending;
  try {
    pending = PendingReduce(group_->barrier(), what, rank_);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": " + what + " failed: " + first_line(e.what()));
  }
  pending.wait();
}

std::vector<std::string> Communicator::gather_to_lead(const std::string& tag, const std::string& bytes) {
  const std::string prefix = "gather/" + tag + "/";
  std::vector<std::string> out;
  try {
    if (rank_ != 0) {
      store_->set(prefix + std::to_string(rank_), std::vector<uint8_t>(bytes.begin(), bytes.end()));
      return out;
    }
    out.push_back(bytes);
    for (int64_t r = 1; r < world_size_; ++r) {
      const auto value = store_->get(prefix + std::to_string(r));  // waits up to the timeout
      out.emplace_back(value.begin(), value.end());
      store_->deleteKey(prefix + std::to_string(r));
    }
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": gathering " + tag + " failed: " + first_line(e.what()));
  }
  return out;
}

void Communicator::check_same(const std::string& what, const std::string& value) {
  const std::string prefix = "check/" + what + "/";
  std::vector<std::string> values(static_cast<size_t>(world_size_));
  try {
    store_->set(prefix + std::to_string(rank_), std::vector<uint8_t>(value.begin(), value.end()));
    for (int64_t r = 0; r < world_size_; ++r) {
      const auto bytes = store_->get(prefix + std::to_string(r));  // waits up to the store's timeout
      values[static_cast<size_t>(r)] = std::string(bytes.begin(), bytes.end());
    }
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(rank_) + ": exchanging the " + what +
                           " with the other ranks failed: " + first_line(e.what()));
  }
  std::string differing;
  for (int64_t r = 1; r < world_size_; ++r) {
    if (values[static_cast<size_t>(r)] == values[0]) continue;
    differing += (differing.empty() ? "" : ", ") + std::to_string(r) + " (" + values[static_cast<size_t>(r)] + ")";
  }
  if (!differing.empty()) {
    throw DistributedError("rank " + std::to_string(rank_) + ": the " + what + " of rank(s) " + differing +
                           " differs from rank 0's (" + values[0] + "); every rank must run the same recipe and overrides");
  }
}

}  // namespace attnlab::distributed
