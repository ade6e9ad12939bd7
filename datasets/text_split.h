// One split of a language-model corpus: windows over a contiguous range of a token stream.
// A window of T = seq_len targets covers T + 1 tokens w[s .. s+T]:
//   inputs  = w[s .. s+T-1]   (T)      labels = w[s+1 .. s+T]   (T)   (next-token targets)
//   target_bytes[t] = bytes that labels[t] stands for
// Windows start at `first`, first + stride, ...; the last window is the first one that reaches the
// range's last token, and when it is short its tail is padded (inputs pad_id, padding_mask true,
// labels kIgnoreTarget, target_bytes 0) instead of being dropped. With stride == T every token
// after `first` is a target exactly once; with stride < T windows overlap (more training windows).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {

// A tokenised text: ids and how many bytes of the original text each token stands for.
struct TokenStream {
  std::vector<int32_t> ids;
  std::vector<int32_t> bytes;
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

class TextSplit : public Split {
 public:
  // Windows over tokens [first, end) of `stream`: end - first >= 2, 1 <= stride <= seq_len.
  TextSplit(std::shared_ptr<const TokenStream> stream, int64_t first, int64_t end, int64_t seq_len,
            int64_t stride, int64_t pad_id);

  int64_t size() const override { return static_cast<int64_t>(starts_.size()); }
  // inputs, labels, target_bytes (B, T) int64; padding_mask (B, T) bool, undefined when none of
  // the chosen windows is short. Throws std::out_of_range for an index outside 0..size()-1.
  Batch batch(const std::vector<int64_t>& indices) const override;

  int64_t window_start(int64_t i) const { return starts_.at(i); }
  // Targets of window i (T, or fewer for the last window).
  int64_t window_targets(int64_t i) const;
  int64_t first() const { return first_; }
  int64_t end() const { return end_; }

 private:
  std::shared_ptr<const TokenStream> stream_;
  int64_t first_, end_, seq_len_, pad_id_;
  std::vector<int64_t> starts_;
};

}  // namespace attnlab::datasets
