// Windows over a token range; see text_split.h.
#include "datasets/text_split.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace attnlab::datasets {

TextSplit::TextSplit(std::shared_ptr<const TokenStream> stream, int64_t first, int64_t end, int64_t seq_len,
                     int64_t stride, int64_t pad_id)
    : stream_(std::move(stream)), first_(first), end_(end), seq_len_(seq_len), pad_id_(pad_id) {
  TORCH_INTERNAL_ASSERT(stream_ && 0 <= first && first + 2 <= end && end <= stream_->size(),
                        "TextSplit: bad token range [", first, ", ", end, ")");
  TORCH_INTERNAL_ASSERT(seq_len >= 1 && stride >= 1 && stride <= seq_len, "TextSplit: bad seq_len/stride");
  // The last target is token end-1; a window starting at s reaches token s + seq_len.
  for (int64_t s = first;; s += stride) {
    starts_.push_back(s);
    if (s + seq_len >= end - 1) break;
  }
}

int64_t TextSplit::window_targets(int64_t i) const {
  return std::min(seq_len_, end_ - 1 - starts_.at(i));
}

Batch TextSplit::batch(const std::vector<int64_t>& indices) const {
  const int64_t b = static_cast<int64_t>(indices.size()), t = seq_len_;
  auto inputs = torch::full({b, t}, pad_id_, torch::kLong);
  auto labels = torch::full({b, t}, kIgnoreTarget, torch::kLong);
  auto target_bytes = torch::zeros({b, t}, torch::kLong);
  auto padding = torch::ones({b, t}, torch::kBool);
  auto in = inputs.accessor<int64_t, 2>();
  auto lab = labels.accessor<int64_t, 2>();
  auto tb = target_bytes.accessor<int64_t, 2>();
  auto pad = padding.accessor<bool, 2>();
  bool any_short = false;
  for (int64_t r = 0; r < b; ++r) {
    const int64_t i = indices[r];
    if (i < 0 || i >= size()) {
      throw std::out_of_range("TextSplit::batch: index " + std::to_string(i) + " is outside 0.." +
                              std::to_string(size() - 1));
    }
    const int64_t s = starts_[i], n = window_targets(i);
    any_short = any_short || n < t;
    for (int64_t k = 0; k < n; ++k) {
      in[r][k] = stream_->ids[s + k];
      lab[r][k] = stream_->ids[s + k + 1];
      tb[r][k] = stream_->bytes[s + k + 1];
      pad[r][k] = false;
    }
  }
  Batch out;
  out.inputs = inputs;
  out.labels = labels;
  out.target_bytes = target_bytes;
  if (any_short) out.padding_mask = padding;
  return out;
}

}  // namespace attnlab::datasets
