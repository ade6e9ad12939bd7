// The transformer step's FLOP count used for the roofline figure, against a hand count.
#include <gtest/gtest.h>

#include "tools/bench/encoder_flops.h"

namespace attnlab::tools {
namespace {

TEST(EncoderFlops, HandCount) {
  // One example, T = 2 tokens, D = 3, F = 4, one layer, token inputs:
  //   projections 8*2*9 = 144, scores and values 4*4*3 = 48, feed-forward 4*2*3*4 = 96 -> 288 forward,
  //   x 3 for forward + backward = 864.
  EXPECT_DOUBLE_EQ(encoder_train_flops(1, 2, 3, 4, 1, 0), 864.0);
  // Linear in batch and layers; float features add 2 T F_in D per example.
  EXPECT_DOUBLE_EQ(encoder_train_flops(5, 2, 3, 4, 2, 0), 5 * 2 * 864.0);
  EXPECT_DOUBLE_EQ(encoder_train_flops(1, 2, 3, 4, 1, 7), 864.0 + 3 * 2 * 2 * 7 * 3);
}

}  // namespace
}  // namespace attnlab::tools
