#include "framework/distributed/gradient_sync.h"

#include <chrono>

namespace attnlab::distributed {

GradientSynchronizer::GradientSynchronizer(Communicator& comm, std::vector<torch::Tensor> params, double bucket_mb)
    : comm_(comm), params_(std::move(params)) {
  const auto limit = static_cast<int64_t>(bucket_mb * 1024.0 * 1024.0 / sizeof(float));
  slots_.resize(params_.size());
  seen_.assign(params_.size(), false);
  // Reverse registration order: the last layers' gradients arrive first in backward.
  for (size_t k = params_.size(); k-- > 0;) {
    const torch::Tensor& p = params_[k];
    TORCH_CHECK(p.device().is_cpu(), "GradientSynchronizer: Gloo buckets need CPU parameters");
    if (!p.requires_grad()) continue;
    if (buckets_.empty() || (buckets_.back().numel > 0 && buckets_.back().numel + p.numel() > limit)) {
      buckets_.emplace_back();
    }
    Bucket& b = buckets_.back();
    slots_[k] = {buckets_.size() - 1, b.numel, p.numel(), b.params.size()};
    b.params.push_back(k);
    b.numel += p.numel();
  }
  for (Bucket& b : buckets_) {
    b.flat = torch::zeros({b.numel + static_cast<int64_t>(b.params.size())}, torch::kFloat);
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    if (!params_[k].requires_grad()) continue;
    params_[k].register_hook([this, k](const torch::Tensor& grad) {
      if (armed_) on_gradient(k, grad);
      return torch::Tensor();  // the gradient is accumulated unchanged
    });
  }
  timings_.buckets = static_cast<int64_t>(buckets_.size());
}

GradientSynchronizer::~GradientSynchronizer() = default;

void GradientSynchronizer::broadcast_parameters(const std::vector<torch::Tensor>& buffers) {
  torch::NoGradGuard no_grad;
  for (auto& p : params_) {
    torch::Tensor t = p.detach();
    comm_.broadcast(t, "broadcasting rank 0's parameters");
  }
  for (auto b : buffers) {
    torch::Tensor t = b.detach();
    comm_.broadcast(t, "broadcasting rank 0's buffers");
  }
}

void GradientSynchronizer::arm() {
  armed_ = true;
  in_backward_ = true;
  next_launch_ = 0;
  timings_.launched_during_backward = 0;
  std::fill(seen_.begin(), seen_.end(), false);
  for (Bucket& b : buckets_) {
    b.ready = 0;
    b.launched = false;
    b.flat.zero_();
  }
}

void GradientSynchronizer::on_gradient(size_t k, const torch::Tensor& grad) {
  torch::NoGradGuard no_grad;
  const Slot& s = slots_[k];
  Bucket& b = buckets_[s.bucket];
  if (seen_[k]) return;  // one accumulated gradient per parameter and backward
  seen_[k] = true;
  // What .grad will hold after this backward: earlier micro-batches' sum plus this one.
  const torch::Tensor& previous = params_[k].grad();
  torch::Tensor total = previous.defined() ? previous + grad : grad;
  b.flat.narrow(0, s.offset, s.numel).copy_(total.reshape({-1}));
  b.flat.data_ptr<float>()[b.numel + static_cast<int64_t>(s.index)] = 1.0f;  // this rank used it
  if (++b.ready == static_cast<int64_t>(b.params.size())) launch_ready_buckets();
}

void GradientSynchronizer::launch(size_t i) {
  Bucket& b = buckets_[i];
  b.pending = comm_.allreduce_sum_async(b.flat, "all-reducing gradient bucket " + std::to_string(i));
  b.launched = true;
  if (in_backward_) ++timings_.launched_during_backward;
}

void GradientSynchronizer::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].ready == static_cast<int64_t>(buckets_[next_launch_].params.size())) {
    launch(next_launch_++);
  }
}

void GradientSynchronizer::finish() {
  torch::NoGradGuard no_grad;
  in_backward_ = false;
  // Parameters backward did not reach on this rank: their earlier micro-batches' gradient, if any.
  for (size_t k = 0; k < params_.size(); ++k) {
    if (!params_[k].requires_grad() || seen_[k]) continue;
    seen_[k] = true;
    const Slot& s = slots_[k];
    Bucket& b = buckets_[s.bucket];
    const torch::Tensor& g = params_[k].grad();
    if (g.defined()) {
      b.flat.narrow(0, s.offset, s.numel).copy_(g.reshape({-1}));
      b.flat.data_ptr<float>()[b.numel + static_cast<int64_t>(s.index)] = 1.0f;
    }
    ++b.ready;
  }
  launch_ready_buckets();
  const auto start = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) b.pending.wait();
  timings_.wait_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const double world = static_cast<double>(comm_.world_size());
  for (Bucket& b : buckets_) {
    const float* users = b.flat.data_ptr<float>() + b.numel;  // ranks that produced each gradient
    for (size_t j = 0; j < b.params.size(); ++j) {
      const size_t k = b.params[j];
      const Slot& s = slots_[k];
      if (users[j] == 0.0f) {
        params_[k].mutable_grad() = torch::Tensor();  // no rank used it
        continue;
      }
      // The division allocates the gradient's own storage; the bucket is reused next step.
      params_[k].mutable_grad() = b.flat.narrow(0, s.offset, s.numel).div(world).view(params_[k].sizes());
    }
  }
  armed_ = false;
}

}  // namespace attnlab::distributed
