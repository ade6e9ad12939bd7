#include "datasets/image_corruption.h"

#include <cmath>
#include <random>
#include <stdexcept>

namespace attnlab::datasets {
namespace {

constexpr double kNoiseSigma[] = {0.08, 0.12, 0.18, 0.26, 0.38};
constexpr double kBlurSigma[] = {0.4, 0.6, 0.8, 1.0, 1.3};
constexpr int64_t kOcclusionSide8[] = {2, 3, 4, 5, 6};  // on an 8x8 image

torch::Tensor gaussian_blur(const torch::Tensor& images, double sigma) {
  const int64_t radius = static_cast<int64_t>(std::ceil(3.0 * sigma));
  const auto x = torch::arange(-radius, radius + 1, torch::kFloat64);
  torch::Tensor k = torch::exp(-(x * x) / (2.0 * sigma * sigma));
  k = (k / k.sum()).to(images.scalar_type());
  const int64_t size = 2 * radius + 1;
  // Separable: rows then columns, each a conv2d with zero padding.
  auto in = images.unsqueeze(1);  // (N, 1, H, W)
  const torch::Tensor no_bias;
  in = torch::conv2d(in, k.view({1, 1, 1, size}), no_bias, /*stride=*/1, /*padding=*/torch::IntArrayRef({0, radius}));
  in = torch::conv2d(in, k.view({1, 1, size, 1}), no_bias, 1, torch::IntArrayRef({radius, 0}));
  return in.squeeze(1);
}

}  // namespace

Corruption corruption_from_name(const std::string& name) {
  if (name == "gaussian_noise") return Corruption::gaussian_noise;
  if (name == "blur") return Corruption::blur;
  if (name == "occlusion") return Corruption::occlusion;
  throw std::invalid_argument("unknown corruption '" + name + "' (gaussian_noise, blur, occlusion)");
}

const char* corruption_name(Corruption c) {
  switch (c) {
    case Corruption::gaussian_noise: return "gaussian_noise";
    case Corruption::blur: return "blur";
    case Corruption::occlusion: return "occlusion";
  }
  return "?";
}

torch::Tensor corrupt_images(const torch::Tensor& images, Corruption corruption, int64_t severity, uint64_t seed) {
  if (severity < 1 || severity > 5) {
    throw std::invalid_argument("corruption severity must be 1..5, got " + std::to_string(severity));
  }
  if (images.dim() != 3 || !images.is_floating_point()) {
    throw std::invalid_argument("corrupt_images: images must be (N, H, W) floating point");
  }
  const auto s = static_cast<size_t>(severity - 1);
  std::mt19937_64 engine(seed);
  switch (corruption) {
    case Corruption::gaussian_noise: {
      std::normal_distribution<double> normal(0.0, kNoiseSigma[s]);
      torch::Tensor noise = torch::empty(images.sizes(), torch::kFloat64);
      double* n = noise.data_ptr<double>();
      for (int64_t i = 0; i < noise.numel(); ++i) n[i] = normal(engine);
      return (images + noise.to(images.scalar_type())).clamp(0.0, 1.0);
    }
    case Corruption::blur:
      return gaussian_blur(images, kBlurSigma[s]);
    case Corruption::occlusion: {
      const int64_t h = images.size(1), w = images.size(2);
      const int64_t side = std::max<int64_t>(
          1, std::min<int64_t>(std::min(h, w), std::llround(kOcclusionSide8[s] * std::min(h, w) / 8.0)));
      torch::Tensor out = images.clone();
      std::uniform_int_distribution<int64_t> row(0, h - side), col(0, w - side);
      for (int64_t i = 0; i < out.size(0); ++i) {
        const int64_t r = row(engine), c = col(engine);
        out[i].narrow(0, r, side).narrow(1, c, side).fill_(0.0);
      }
      return out;
    }
  }
  return images;
}

}  // namespace attnlab::datasets
