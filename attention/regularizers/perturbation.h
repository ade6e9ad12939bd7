// The math of attention-score perturbations and attention entropy (notes
// attention_regularizers.md §1-§4), as pure functions of one attention site's tensors, so the
// regularizers that drive the forwards (framework/objective) and the tests share one definition.
//
// Shapes: a site's scores, gradients and perturbations are (N, ...) with N the leading index of the
// scores (the batch; for Mega-chunk the batch times the chunks), typically (N, H, Tq, Tk). The key
// padding mask is (N, Tk) bool, true = padding, or undefined.
#pragma once

#include <torch/torch.h>

#include <string>

namespace attnlab::attention {

// `t` with every entry on a padded key set to 0 (the mask broadcast over heads and queries).
torch::Tensor zero_padded_keys(const torch::Tensor& t, const torch::Tensor& key_padding_mask);

// t_i / ||t_i||_2 for every leading index i, the norm taken over all other dims (F.normalize on a
// (B, T) tensor with dim=1, the released AT code's per-example normalisation, but without its 1e-12
// floor, so a tiny nonzero t_i still gets norm 1). An all-zero t_i stays zero (no NaN).
torch::Tensor normalize_per_example(const torch::Tensor& t);

// The direction of Attention iAT from the task-loss gradient g and the clean scores s (both (N, ...)),
// for the three readings of the paper and its code (notes §1.3):
//   "code_negated_grad"        -g: what the released code computes (its direction tensor is dead)
//   "iadvt_batch_dirs_norm_j"  sum_j dir_ij^2 * g_i with dir_ij = s_i - s_j normalised over the
//                              partner j: the weights are 1, so this is AT's direction exactly
//   "iadvt_batch_dirs_norm_T"  the same with dir_ij normalised over the tokens of (i, j): entries where
//                              example i differs most from its batch-mates weigh more
// With a batch of one there are no partners; the batch-direction modes then use g itself (AT).
// Returned unnormalised; padded keys zeroed by the caller.
torch::Tensor iat_direction(const torch::Tensor& grad, const torch::Tensor& scores, const std::string& mode);

// Attention entropy of normalised weights a (N, H, Tq, Tk) per (n, h, q) row, H = -sum_k a log a,
// computed so that a = 0 entries contribute 0 (and no NaN gradient). Rows are renormalised first so
// that non-softmax attention functions (Mega's laplace and relu^2) give an entropy too.
// `normalized` divides each row by log(n_keys), n_keys the row's non-padded keys (rows with one key
// give 0); that variant is not the reference (AEM's code does not normalise).
// Returns (row entropies (N, H, Tq), row validity (N, H, Tq) bool): a row is valid when it has
// weight and, for self-attention (Tq == Tk), its query is not padding.
std::pair<torch::Tensor, torch::Tensor> attention_row_entropy(const torch::Tensor& weights,
                                                              const torch::Tensor& key_padding_mask,
                                                              bool normalized);

// The same in two steps, so a fused kernel that computes the row entropies itself (without the
// weights) is finished the same way. raw_row_entropy: (entropy in nats, has_mass) (N, H, Tq), before
// normalisation and validity. finish_row_entropy: the validity and the optional normalisation,
// for rows of an attention over `keys` keys; self_attention: Tq == Tk (padded queries drop out).
struct RowEntropy {
  torch::Tensor entropy;   // (N, H, Tq)
  torch::Tensor has_mass;  // (N, H, Tq) bool: the row attends to at least one key
};
RowEntropy raw_row_entropy(const torch::Tensor& weights, const torch::Tensor& key_padding_mask);
std::pair<torch::Tensor, torch::Tensor> finish_row_entropy(const RowEntropy& raw,
                                                           const torch::Tensor& key_padding_mask,
                                                           int64_t keys, bool self_attention,
                                                           bool normalized);

}  // namespace attnlab::attention
