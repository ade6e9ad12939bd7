// The UCI optical digits as shipped by scikit-learn (Debian python3-sklearn):
// sklearn/datasets/data/digits.csv.gz, 1,797 rows of 64 pixel values 0..16 (an 8x8 image,
// row-major) followed by the label 0..9. Each image becomes a sequence of patches, as in ViT: with
// patch size p in {1, 2, 4, 8} an image is T = (8/p)^2 tokens of p*p pixels, patches in row-major
// order and pixels row-major within a patch, scaled to [0, 1]. Inputs (N, T, p*p) float32, labels
// (N) int64, no padding. Splits "train", "val", "test" are stratified by class (see splits.h).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/image_corruption.h"
#include "datasets/readable_tokens.h"
#include "datasets/in_memory_split.h"

namespace attnlab::datasets {

struct DigitsOptions {
  std::string path = "";   // "" = find_digits_file()
  int64_t patch_size = 2;  // 1, 2, 4 or 8
  double val_fraction = 0.15;
  double test_fraction = 0.15;
  uint64_t seed = 0;  // of the stratified split
};

// The installed digits.csv.gz: the Debian path, then /usr/lib/python3*/dist-packages,
// /usr/local/lib/python3*/{dist,site}-packages. Throws DataError naming where it looked.
std::string find_digits_file();

// The raw file: images (N, 8, 8) float32 with values 0..16, labels (N) int64. Reads gzip or plain
// CSV. Throws DataError "PATH:LINE: ..." for a malformed row, naming the 1-based column.
struct DigitsData {
  torch::Tensor images;
  torch::Tensor labels;
};
DigitsData read_digits_csv(const std::string& path);

// images (N, H, W) -> patches (N, (H/p)*(W/p), p*p); H and W divisible by p.
torch::Tensor images_to_patches(const torch::Tensor& images, int64_t patch_size);
// The inverse: patches (N, (H/p)*(W/p), p*p) -> images (N, H, W).
torch::Tensor patches_to_images(const torch::Tensor& patches, int64_t patch_size, int64_t height,
                                int64_t width);

class DigitsDataset : public Dataset, public CorruptibleImages, public ReadableTokens {
 public:
  explicit DigitsDataset(const DigitsOptions& options);

  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override { return {"train", "val", "test"}; }
  std::shared_ptr<const Split> split(const std::string& name) const override;
  // The split's 8x8 images corrupted (image_corruption.h), as patches again.
  std::shared_ptr<const Split> corrupted_split(const std::string& name, Corruption corruption, int64_t severity,
                                               uint64_t seed) const override;

  // The 8x8 image and its patch grid; patches labelled "r,c" (row and column in the grid).
  TokenView token_view(const Batch& batch, int64_t index) const override;

  const std::string& path() const { return path_; }
  const DigitsOptions& options() const { return options_; }

 private:
  DigitsOptions options_;
  std::string path_;
  DataSpec spec_;
  std::shared_ptr<const InMemorySplit> train_, val_, test_;
};

}  // namespace attnlab::datasets
