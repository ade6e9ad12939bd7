// Counter-based CPU dropout; see dropout.h for why and for the mask's definition.
#include "attention/kernels/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <type_traits>

namespace attnlab::attention::kernels {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): output j of the stream seeded with `seed` is
// mix(seed + (j + 1) * gamma). Any element's bits are computable on their own, which is what
// lets the threads split the tensor anywhere and the backward pass recompute the mask.
constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;

inline uint64_t splitmix64_output(uint64_t seed, uint64_t j) {
  uint64_t z = seed + (j + 1) * kGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Element i is kept when its 32 bits (the low half of output i/2 for even i, the high half for
// odd i) are >= this: P(keep) = 1 - threshold / 2^32, within 2^-33 of 1 - p.
uint64_t drop_threshold(double p) { return static_cast<uint64_t>(std::llround(p * 4294967296.0)); }

inline bool kept(uint64_t seed, int64_t i, uint64_t threshold) {
  const uint64_t bits = splitmix64_output(seed, static_cast<uint64_t>(i) >> 1);
  const uint64_t half = (i & 1) ? (bits >> 32) : (bits & 0xFFFFFFFFull);
  return half >= threshold;
}

// out[i] = kept(i) ? in[i] * value : 0, over the threads; value = 1/(1-p) (dropout) or 1 (mask).
template <typename scalar_t>
void apply_mask(const scalar_t* in, scalar_t* out, int64_t n, uint64_t seed, uint64_t threshold,
                double value) {
  using acc_t = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
  const acc_t v = static_cast<acc_t>(value);
  const int64_t pairs = (n + 1) / 2;
  at::parallel_for(0, pairs, 8192, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const uint64_t bits = splitmix64_output(seed, static_cast<uint64_t>(j));
      const int64_t i = 2 * j;
      out[i] = (bits & 0xFFFFFFFFull) >= threshold
                   ? static_cast<scalar_t>(static_cast<acc_t>(in[i]) * v)
                   : static_cast<scalar_t>(0);
      if (i + 1 < n) {
        out[i + 1] = (bits >> 32) >= threshold
                         ? static_cast<scalar_t>(static_cast<acc_t>(in[i + 1]) * v)
                         : static_cast<scalar_t>(0);
      }
    }
  });
}

torch::Tensor masked_scale(const torch::Tensor& x, double p, uint64_t seed, double value) {
  TORCH_CHECK(x.device().is_cpu(), "dropout: the counter-based mask is for CPU tensors");
  TORCH_CHECK(x.is_floating_point(), "dropout: expected a floating tensor, got ", x.scalar_type());
  const auto in = x.contiguous();
  auto out = torch::empty_like(in, at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, in.scalar_type(), "dropout", [&] {
    apply_mask(in.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), in.numel(), seed,
               drop_threshold(p), value);
  });
  return out;
}

double keep_scale(double p) { return 1.0 / (1.0 - p); }

class CounterDropout : public torch::autograd::Function<CounterDropout> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double p, int64_t seed) {
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seed;
    return masked_scale(x, p, static_cast<uint64_t>(seed), keep_scale(p));
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const double p = ctx->saved_data["p"].toDouble();
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {masked_scale(grads[0], p, seed, keep_scale(p)), torch::Tensor(), torch::Tensor()};
  }
};

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

void check_probability(double p) {
  TORCH_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
}

}  // namespace

torch::Tensor dropout_with_seed(const torch::Tensor& x, double p, uint64_t seed) {
  check_probability(p);
  if (p >= 1.0) return x * 0.0;  // keeps the graph; 1/(1-p) would be infinite
  return CounterDropout::apply(x, p, static_cast<int64_t>(seed));
}

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  check_probability(p);
  if (!training || p == 0.0) return x;
  if (!x.device().is_cpu()) return torch::dropout(x, p, training);
  return dropout_with_seed(x, p, draw_seed());
}

torch::Tensor dropout_keep_mask(const torch::Tensor& x, double p, uint64_t seed) {
  check_probability(p);
  return masked_scale(torch::ones_like(x), p, seed, 1.0);
}

torch::Tensor dropout_keep_mask_reference(const torch::Tensor& x, double p, uint64_t seed) {
  check_probability(p);
  auto mask = torch::empty({x.numel()}, torch::kDouble);
  auto* m = mask.data_ptr<double>();
  const uint64_t threshold = drop_threshold(p);
  for (int64_t i = 0; i < x.numel(); ++i) m[i] = kept(seed, i, threshold) ? 1.0 : 0.0;
  return mask.view(x.sizes()).to(x.scalar_type());
}

}  // namespace attnlab::attention::kernels
