// MoH identities about head order and padding (moh_mega.md §5, 6 and 12), in float64:
// - §5.6: reordering the heads, i.e. the q/k/v projection row blocks, the W_O column blocks and the
//   router rows that belong to them (wg for routed heads, wg_1 for shared ones), leaves the output
//   and the balance loss unchanged, and the gates move with their heads. Heads are experts
//   identified only by their weights; nothing may depend on a head's index.
// - §5.12: appending padded positions changes nothing at real positions, and the balance loss of
//   a padded batch equals that of its real tokens alone (routing is per token).
// The expected values come from a second module or a second batch, never from the code's internals.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "attention/moh/moh.h"
#include "mha_test_util.h"
#include "moh_test_util.h"

namespace attnlab::attention {
namespace {

using testing::make_moh;
using testing::max_abs_diff;
using testing::moh_options;
using testing::padding_from_lengths;

AttentionOutput run(MixtureOfHeadsAttention& moh, const torch::Tensor& x, const torch::Tensor& mask,
                    bool causal) {
  ForwardContext ctx;
  return moh.forward(AttentionCall{x, mask, causal}, ctx, "layer0");
}

torch::Tensor index_tensor(const std::vector<int64_t>& v) {
  return torch::tensor(v, torch::kLong);
}

// dst head i := src head perm[i]. `perm` must map shared heads to shared and routed to routed.
// Projections: q/k/v weight (D, D) rows and biases in blocks of d_h per head; W_O (D, D) columns
// in blocks of d_h. Routers: wg row r belongs to routed head h_s + r, wg_1 row i to shared head i;
// wg_0 (the shared/routed balance) belongs to no head.
void copy_with_heads_permuted(const MixtureOfHeadsAttention& src, MixtureOfHeadsAttention& dst,
                              const std::vector<int64_t>& perm, bool move_routers = true,
                              bool move_projections = true) {
  const int64_t h = src.options().heads, hs = src.options().shared_heads, dh = src.head_dim();
  const int64_t d = src.options().d_model;
  const auto heads = index_tensor(perm);
  std::vector<int64_t> routed_rows, shared_rows;
  for (int64_t i = hs; i < h; ++i) routed_rows.push_back(perm[i] - hs);
  for (int64_t i = 0; i < hs; ++i) shared_rows.push_back(perm[i]);

  torch::NoGradGuard no_grad;
  for (const auto& [s, t] : {std::pair{src.q_proj(), dst.q_proj()}, std::pair{src.k_proj(), dst.k_proj()},
                             std::pair{src.v_proj(), dst.v_proj()}}) {
    const auto w = s->weight.view({h, dh, d});  // (H, d_h, D): row block per head
    t->weight.copy_(move_projections ? w.index_select(0, heads).reshape({d, d}) : s->weight);
    if (s->bias.defined()) {
      t->bias.copy_(move_projections ? s->bias.view({h, dh}).index_select(0, heads).reshape({d}) : s->bias);
    }
  }
  const auto wo = src.out_proj()->weight.view({d, h, dh});  // (D, H, d_h): column block per head
  dst.out_proj()->weight.copy_(move_projections ? wo.index_select(1, heads).reshape({d, d})
                                                : src.out_proj()->weight);
  if (src.out_proj()->bias.defined()) dst.out_proj()->bias.copy_(src.out_proj()->bias);
  if (!src.wg().is_empty()) {
    dst.wg()->weight.copy_(move_routers ? src.wg()->weight.index_select(0, index_tensor(routed_rows))
                                        : src.wg()->weight);
  }
  if (!src.wg_1().is_empty()) {
    dst.wg_1()->weight.copy_(move_routers ? src.wg_1()->weight.index_select(0, index_tensor(shared_rows))
                                          : src.wg_1()->weight);
  }
  if (!src.wg_0().is_empty()) dst.wg_0()->weight.copy_(src.wg_0()->weight);
}

// Shared heads reversed, routed heads rotated by one: no routed head keeps its place.
std::vector<int64_t> reorder(int64_t heads, int64_t shared) {
  std::vector<int64_t> perm(heads);
  for (int64_t i = 0; i < shared; ++i) perm[i] = shared - 1 - i;
  const int64_t routed = heads - shared;
  for (int64_t r = 0; r < routed; ++r) perm[shared + r] = shared + (r + 1) % routed;
  return perm;
}

const std::vector<MohOptions>& configs() {
  static const std::vector<MohOptions> all = {moh_options(24, 6, 2, 3), moh_options(16, 4, 0, 2),
                                              moh_options(24, 6, 3, 2), moh_options(24, 6, 2, 3, "query_norm")};
  return all;
}

TEST(MohSymmetry, PermutingHeadsWithTheirWeightsAndRouterRowsChangesNothing) {
  for (size_t c = 0; c < configs().size(); ++c) {
    for (const bool skip : {false, true}) {
      auto options = configs()[c];
      options.skip_unselected = skip;
      auto a = make_moh(options, torch::kDouble, 50 + c);
      auto b = make_moh(options, torch::kDouble, 99);  // every weight overwritten below
      const auto perm = reorder(options.heads, options.shared_heads);
      copy_with_heads_permuted(*a, *b, perm);
      a->train();  // the balance loss too (dropout is 0)
      b->train();
      const auto x = torch::randn({3, 9, options.d_model}, torch::kDouble);
      const auto mask = padding_from_lengths({9, 6, 2}, 9);
      for (const bool causal : {false, true}) {
        const std::string where = "config " + std::to_string(c) + (skip ? " skip" : " dense") +
                                  (causal ? " causal" : "");
        const auto ra = run(*a, x, mask, causal);
        const auto rb = run(*b, x, mask, causal);
        EXPECT_LT(max_abs_diff(ra.out, rb.out), 1e-12) << where;
        // Head i of b carries head perm[i] of a, gate included.
        EXPECT_LT(max_abs_diff(b->last_routing().gates,
                               a->last_routing().gates.index_select(-1, index_tensor(perm))),
                  1e-12)
            << where;
        ASSERT_EQ(ra.aux_losses.size(), rb.aux_losses.size()) << where;
        for (size_t i = 0; i < ra.aux_losses.size(); ++i) {
          EXPECT_LT(max_abs_diff(ra.aux_losses[i].value, rb.aux_losses[i].value), 1e-12) << where;
        }
      }
    }
  }
}

// The check has teeth: moving the heads without their router rows (or the router rows without
// the heads) gives another function, so the identity above is not trivially true.
TEST(MohSymmetry, PermutingOnlyHalfOfTheTiedWeightsChangesTheOutput) {
  const auto options = moh_options(24, 6, 2, 3);
  auto a = make_moh(options, torch::kDouble, 61);
  const auto perm = reorder(6, 2);
  const auto x = torch::randn({2, 7, 24}, torch::kDouble);
  const auto reference = run(*a, x, {}, false).out;
  for (const bool move_routers : {false, true}) {
    auto b = make_moh(options, torch::kDouble, 99);
    copy_with_heads_permuted(*a, *b, perm, move_routers, /*move_projections=*/!move_routers);
    EXPECT_GT(max_abs_diff(run(*b, x, {}, false).out, reference), 1e-4) << move_routers;
  }
}

// §5.12: each example alone (no mask) equals its rows in a right-padded batch whose padded
// positions hold garbage; with the learned router the batch's balance loss equals that of one
// unpadded sequence made of the same real tokens (P and f are means over real tokens).
TEST(MohSymmetry, AppendedPaddingChangesNothingAtRealPositions) {
  const std::vector<int64_t> lengths = {7, 4, 1};
  const int64_t t = 10;
  for (size_t c = 0; c < configs().size(); ++c) {
    for (const bool skip : {false, true}) {
      auto options = configs()[c];
      options.skip_unselected = skip;
      auto moh = make_moh(options, torch::kDouble, 70 + c);
      moh->train();
      const int64_t d = options.d_model;
      const auto mask = padding_from_lengths(lengths, t);
      const auto x = torch::where(mask.unsqueeze(-1), 30.0 * torch::randn({3, t, d}, torch::kDouble),
                                  torch::randn({3, t, d}, torch::kDouble));
      for (const bool causal : {false, true}) {
        const std::string where = "config " + std::to_string(c) + (skip ? " skip" : " dense") +
                                  (causal ? " causal" : "");
        const auto batch = run(*moh, x, mask, causal);
        std::vector<torch::Tensor> real_tokens;
        for (size_t e = 0; e < lengths.size(); ++e) {
          const auto alone = x[e].narrow(0, 0, lengths[e]).unsqueeze(0);  // (1, len, D)
          real_tokens.push_back(alone);
          const auto single = run(*moh, alone, {}, causal).out;
          EXPECT_LT(max_abs_diff(batch.out[e].narrow(0, 0, lengths[e]), single[0]), 1e-12)
              << where << " example " << e;
        }
        if (options.router != "learned") continue;
        // Routing is per token, so one unpadded sequence of the same tokens routes identically.
        const auto flat = run(*moh, torch::cat(real_tokens, 1), {}, causal);
        ASSERT_EQ(batch.aux_losses.size(), 1u) << where;
        EXPECT_LT(max_abs_diff(batch.aux_losses[0].value, flat.aux_losses.at(0).value), 1e-12) << where;
      }
    }
  }
}

}  // namespace
}  // namespace attnlab::attention
