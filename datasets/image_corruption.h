// Image corruptions at severities 1-5 for robustness sweeps (after Hendrycks & Dietterich's
// ImageNet-C, scaled to small grey images with values in [0, 1]):
//   gaussian_noise  x + N(0, σ²), clipped to [0, 1]; σ = 0.08, 0.12, 0.18, 0.26, 0.38
//   blur            Gaussian blur, σ = 0.4, 0.6, 0.8, 1.0, 1.3 pixels, kernel 2·ceil(3σ)+1,
//                   zero padding (the digits' background is 0)
//   occlusion       one square of side 2, 3, 4, 5, 6 pixels (on an 8×8 image; scaled with the
//                   image side) set to 0 at a uniformly random position inside the image
// Randomness (noise, square position) comes from `seed`, so a sweep is reproducible.
// Datasets whose examples are images implement CorruptibleImages; the abstention stage asks for a
// corrupted copy of a split through it.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "datasets/dataset.h"

namespace attnlab::datasets {

enum class Corruption { gaussian_noise, blur, occlusion };

// "gaussian_noise" | "blur" | "occlusion"; std::invalid_argument naming the valid ones otherwise.
Corruption corruption_from_name(const std::string& name);
const char* corruption_name(Corruption corruption);

// images (N, H, W) float in [0, 1] -> corrupted copy; severity in 1..5 (std::invalid_argument otherwise).
torch::Tensor corrupt_images(const torch::Tensor& images, Corruption corruption, int64_t severity, uint64_t seed);

class CorruptibleImages {
 public:
  virtual ~CorruptibleImages() = default;
  // A copy of split `name` with every image corrupted; labels unchanged.
  virtual std::shared_ptr<const Split> corrupted_split(const std::string& name, Corruption corruption,
                                                       int64_t severity, uint64_t seed) const = 0;
};

}  // namespace attnlab::datasets
