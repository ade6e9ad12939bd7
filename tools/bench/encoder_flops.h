// Floating-point operations of one training step of the transformer encoder classifier (pre-norm
// blocks of attention and a feed-forward layer), counting the matrix products only (2 per
// multiply-add) and backward as twice forward, as the roofline convention does (Kaplan et al.).
// Per example of T tokens and per layer: q, k, v and output projections 8 T D^2, scores and
// weighted values 4 T^2 D, feed-forward 4 T D F; plus the input projection 2 T F_in D for float
// features. MoH's dense path computes every head, so it counts as mha (its router is ignored).
#pragma once

#include <cstdint>

namespace attnlab::tools {

inline double encoder_train_flops(int64_t batch, int64_t tokens, int64_t d_model, int64_t ff_dim, int64_t layers,
                                  int64_t input_features) {
  const double b = static_cast<double>(batch), t = static_cast<double>(tokens), d = static_cast<double>(d_model);
  const double per_layer = 8 * t * d * d + 4 * t * t * d + 4 * t * d * static_cast<double>(ff_dim);
  const double forward = b * (static_cast<double>(layers) * per_layer + 2 * t * static_cast<double>(input_features) * d);
  return 3 * forward;
}

}  // namespace attnlab::tools
