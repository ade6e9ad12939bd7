// Bucketed gradient averaging with two ranks in two threads over Gloo on loopback: after
// backward, every rank holds the mean of the ranks' gradients (what one process computes on the
// union of their data), buckets are launched in order during backward, earlier micro-batches'
// gradients are included, and a parameter no rank used keeps an undefined gradient. Also the
// recipe check and a dead peer turning into a DistributedError instead of a hang.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "framework/distributed/gradient_sync.h"

namespace attnlab::distributed {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Environment env_for(int64_t rank, int port) {
  Environment e;
  e.rank = rank;
  e.world_size = 2;
  e.local_world_size = 2;
  e.master_port = port;
  e.source = "test";
  return e;
}

// Runs f(rank) in two threads; the first exception of either is rethrown.
template <typename F>
void two_ranks(F f) {
  std::exception_ptr errors[2];
  std::thread t0([&] { try { f(0); } catch (...) { errors[0] = std::current_exception(); } });
  std::thread t1([&] { try { f(1); } catch (...) { errors[1] = std::current_exception(); } });
  t0.join();
  t1.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// A tiny model: y = w2 · relu(W1 x), plus a parameter used only when `use_extra`.
struct Tiny {
  torch::Tensor w1, w2, extra, unused;
  explicit Tiny(uint64_t seed) {
    torch::manual_seed(seed);
    w1 = torch::randn({6, 3}).requires_grad_();
    w2 = torch::randn({1, 6}).requires_grad_();
    extra = torch::randn({1}).requires_grad_();
    unused = torch::randn({2}).requires_grad_();
  }
  // Registration order; buckets go in reverse, so w2's (ready first in backward) leads.
  std::vector<torch::Tensor> params() const { return {unused, extra, w1, w2}; }
  torch::Tensor loss(const torch::Tensor& x, bool use_extra) const {
    auto y = torch::matmul(torch::relu(torch::matmul(x, w1.t())), w2.t()).sum();
    return use_extra ? y + extra.sum() * 3.0 : y;
  }
};

TEST(GradientSync, RanksHoldTheMeanGradientOfTheirDataIncludingAccumulation) {
  const int port = free_port();
  torch::manual_seed(0);
  const auto data = torch::randn({4, 5, 3});  // [rank * 2 + micro-batch]
  // Reference: one process, both ranks' micro-batches, each loss / (micro-batches · ranks) as the
  // trainer scales it: the mean over ranks of each rank's accumulated gradient.
  Tiny ref(1);
  for (int r = 0; r < 2; ++r)
    for (int m = 0; m < 2; ++m) (ref.loss(data[r * 2 + m], /*use_extra=*/r == 1) / 4.0).backward();
  std::vector<torch::Tensor> grads[2];
  int64_t overlapped[2] = {0, 0};
  // Built here: the global generator is not for two threads at once. Rank 1 starts elsewhere;
  // the broadcast fixes it.
  Tiny models[2] = {Tiny(1), Tiny(99)};
  two_ranks([&](int64_t rank) {
    DistributedSettings settings;
    settings.timeout_s = 30;
    auto comm = Communicator::connect(env_for(rank, port), settings);
    Tiny& model = models[rank];
    GradientSynchronizer sync(*comm, model.params(), /*bucket_mb=*/1e-6);  // one parameter a bucket
    sync.broadcast_parameters({});
    (model.loss(data[rank * 2], rank == 1) / 2.0).backward();  // micro-batch 1: no communication
    sync.arm();
    (model.loss(data[rank * 2 + 1], rank == 1) / 2.0).backward();
    sync.finish();
    overlapped[rank] = sync.timings().launched_during_backward;
    EXPECT_EQ(sync.bucket_count(), 4);
    for (const auto& p : model.params()) grads[rank].push_back(p.grad());
  });
  for (int r = 0; r < 2; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    EXPECT_FALSE(grads[r][0].defined());  // no rank used it: undefined, as in one process
    for (size_t k = 1; k < 4; ++k) EXPECT_TRUE(grads[r][k].allclose(ref.params()[k].grad(), 1e-5, 1e-6)) << k;
    EXPECT_GE(overlapped[r], 1);          // w2's bucket left while w1's gradient was being computed
  }
}

TEST(GradientSync, RecipeMismatchIsReportedOnEveryRank) {
  const int port = free_port();
  std::string messages[2];
  two_ranks([&](int64_t rank) {
    DistributedSettings settings;
    settings.timeout_s = 30;
    auto comm = Communicator::connect(env_for(rank, port), settings);
    try {
      comm->check_same("resolved recipe", rank == 0 ? "aaaa" : "bbbb");
    } catch (const DistributedError& e) {
      messages[rank] = e.what();
    }
  });
  for (const auto& m : messages) EXPECT_NE(m.find("resolved recipe of rank(s) 1 (bbbb) differs from rank 0's (aaaa)"), std::string::npos) << m;
}

TEST(GradientSync, ADeadPeerIsAnErrorNotAHang) {
  const int port = free_port();
  std::string message;
  two_ranks([&](int64_t rank) {
    DistributedSettings settings;
    settings.timeout_s = 3;
    auto comm = Communicator::connect(env_for(rank, port), settings);
    if (rank == 1) return;  // leaves without taking part: the all-reduce times out on rank 0
    torch::Tensor t = torch::ones({4});
    const auto start = std::chrono::steady_clock::now();
    try {
      comm->allreduce_sum(t, "a test all-reduce");
    } catch (const DistributedError& e) {
      message = e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  });
  EXPECT_NE(message.find("rank 0: a test all-reduce failed"), std::string::npos) << message;
}

}  // namespace
}  // namespace attnlab::distributed
