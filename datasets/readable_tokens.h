// How a person reads an example's tokens, for reports (attention heatmaps in `attnlab report`).
// Optional: a dataset implements ReadableTokens when its tokens have a readable form (words,
// operators, image patches); a report shows the others' tokens by position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {

struct TokenView {
  std::vector<std::string> labels;  // one per real (non-padding) token, in order
  // Datasets whose tokens are the patches of an image: the image (height x width grey levels in
  // [0, 1], row-major) and its patch grid (grid_rows x grid_cols patches, row-major token order),
  // so attention can be drawn over the picture. Empty otherwise.
  int64_t image_height = 0, image_width = 0;
  std::vector<float> pixels;
  int64_t grid_rows = 0, grid_cols = 0;
};

class ReadableTokens {
 public:
  virtual ~ReadableTokens() = default;
  // Example `index` of `batch`, a batch one of this dataset's splits made.
  virtual TokenView token_view(const Batch& batch, int64_t index) const = 0;
};

// The ids of example `index`'s real tokens (token inputs (B, T) with the padding mask dropped).
std::vector<int64_t> real_token_ids(const Batch& batch, int64_t index);

}  // namespace attnlab::datasets
