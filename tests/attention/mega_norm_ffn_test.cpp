// Mega's sequence norms (layer, scale, rms against hand formulas; batch norm over valid tokens
// only, running statistics in eval mode) and the normalised FFN (against its equations, pre- and
// post-norm), attention/mega/sequence_norm.h and normalized_ffn.h.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attention/gradcheck.h"
#include "attention/mega/normalized_ffn.h"
#include "attention/mega/sequence_norm.h"
#include "attention/mega_test_util.h"

namespace attnlab::attention {
namespace {

using testing::mega_max_diff;

SequenceNorm make_norm(const std::string& kind, int64_t d = 5) {
  SequenceNorm norm(kind, d);
  norm->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  for (auto& p : norm->parameters()) p.normal_(1.0, 0.3);  // non-trivial affine parameters
  return norm;
}

TEST(MegaNorm, LayerScaleRmsMatchHandFormulas) {
  const auto x = torch::randn({2, 4, 5}, torch::kDouble) * 3.0 + 1.0;
  const double eps = 1e-5;
  {
    auto n = make_norm("layer");
    const auto mean = x.mean(-1, true);
    const auto var = (x - mean).pow(2).mean(-1, true);
    const auto expect = (x - mean) / (var + eps).sqrt() * n->named_parameters()["weight"] +
                        n->named_parameters()["bias"];
    EXPECT_LT(mega_max_diff(n->forward(x), expect), 1e-12);
  }
  const auto rms = (x.pow(2).mean(-1, true) + eps).sqrt();
  {
    auto n = make_norm("rms");
    EXPECT_LT(mega_max_diff(n->forward(x), n->named_parameters()["weight"] * x / rms), 1e-12);
    EXPECT_EQ(n->named_parameters().size(), 1u);
  }
  {
    auto n = make_norm("scale");
    const auto g = n->named_parameters()["scalar"];
    EXPECT_EQ(g.numel(), 1);
    EXPECT_LT(mega_max_diff(n->forward(x), g * x / rms), 1e-12);
  }
}

TEST(MegaNorm, BatchNormIgnoresPaddingAndUsesRunningStatsInEval) {
  auto n = make_norm("batch", 3);
  const auto x = torch::randn({2, 6, 3}, torch::kDouble);
  auto mask = torch::zeros({2, 6}, torch::kBool);
  mask[0].narrow(0, 4, 2).fill_(true);
  mask[1][0] = true;
  const auto valid = x.index({torch::logical_not(mask)});  // (N,3)
  const auto mean = valid.mean(0);
  const auto sq = (valid - mean).pow(2).sum(0);
  const auto var = sq / static_cast<double>(valid.size(0));           // biased: what normalises
  const auto unbiased = sq / static_cast<double>(valid.size(0) - 1);  // what the running var tracks
  const auto w = n->named_parameters()["weight"], b = n->named_parameters()["bias"];
  n->train();
  const auto y = n->forward(x, mask);
  const auto keep = torch::logical_not(mask).unsqueeze(-1);
  EXPECT_LT(mega_max_diff(y.masked_fill(~keep, 0.0),
                          ((x - mean) / (var + 1e-5).sqrt() * w + b).masked_fill(~keep, 0.0)),
            1e-12);
  // Values at padding change nothing at valid tokens, nor the running statistics.
  auto n2 = make_norm("batch", 3);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < n->parameters().size(); ++i)
      n2->parameters()[i].copy_(n->parameters()[i]);
  }
  n2->train();
  const auto y2 = n2->forward(x.masked_fill(mask.unsqueeze(-1), 50.0), mask);
  EXPECT_LT(mega_max_diff(y.masked_fill(~keep, 0.0), y2.masked_fill(~keep, 0.0)), 1e-12);
  const auto rm = n->named_buffers()["running_mean"], rv = n->named_buffers()["running_var"];
  EXPECT_LT(mega_max_diff(rm, n2->named_buffers()["running_mean"]), 1e-15);
  EXPECT_LT(mega_max_diff(rm, 0.1 * mean), 1e-12);
  EXPECT_LT(mega_max_diff(rv, 0.9 + 0.1 * unbiased), 1e-12);
  n->eval();
  EXPECT_LT(mega_max_diff(n->forward(x), (x - rm) / (rv + 1e-5).sqrt() * w + b), 1e-12);
}

TEST(MegaNorm, UnknownKindIsAClearError) {
  try {
    SequenceNorm n("group", 4);
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("unknown kind 'group' (expected layer | scale | rms | batch)"),
        std::string::npos);
  }
}

TEST(MegaNormalizedFFN, MatchesEquationsPreAndPostNorm) {
  for (const bool prenorm : {true, false}) {
    torch::manual_seed(3);
    NormalizedFFN f(NormalizedFFNOptions{4, 0, 0.0, 0.0, "rms", prenorm});
    f->to(torch::kDouble);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : f->parameters()) p.normal_(0.0, 0.5);
    }
    EXPECT_EQ(f->fc1()->weight.sizes(), (torch::IntArrayRef{8, 4}));  // hidden 0 -> 2 D
    const auto x = torch::randn({2, 3, 4}, torch::kDouble);
    const auto in = prenorm ? f->norm()->forward(x) : x;
    const auto hidden = torch::silu(torch::matmul(in, f->fc1()->weight.t()) + f->fc1()->bias);
    auto expect = x + torch::matmul(hidden, f->fc2()->weight.t()) + f->fc2()->bias;
    if (!prenorm) expect = f->norm()->forward(expect);
    EXPECT_LT(mega_max_diff(f->forward(x), expect), 1e-12);
    // Zeroed fc2 leaves the residual alone (pre-norm) / the normalised residual (post-norm).
    {
      torch::NoGradGuard no_grad;
      f->fc2()->weight.zero_();
      f->fc2()->bias.zero_();
    }
    EXPECT_LT(mega_max_diff(f->forward(x), prenorm ? x : f->norm()->forward(x)), 1e-12);
  }
}

TEST(MegaNormalizedFFN, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  NormalizedFFN f(NormalizedFFNOptions{3, 4, 0.0, 0.0, "layer", true});
  f->to(torch::kDouble);
  const auto x = torch::randn({2, 3, 3}, torch::kDouble).requires_grad_(true);
  const auto w = torch::randn({2, 3, 3}, torch::kDouble);
  const auto loss = [&] { return (f->forward(x) * w).sum(); };
  for (const auto& item : f->named_parameters()) {
    const auto r = testing::gradcheck(loss, item.value());
    EXPECT_LT(r.max_abs_error, 1e-7 * std::max(1.0, r.max_abs_grad)) << item.key();
  }
  const auto r = testing::gradcheck(loss, x);
  EXPECT_LT(r.max_abs_error, 1e-7 * std::max(1.0, r.max_abs_grad));
}

TEST(MegaNormalizedFFN, InvalidOptions) {
  EXPECT_THROW(NormalizedFFN(NormalizedFFNOptions{0, 4, 0.0, 0.0, "layer", true}), c10::Error);
  EXPECT_THROW(NormalizedFFN(NormalizedFFNOptions{4, 4, 1.0, 0.0, "layer", true}), c10::Error);
  EXPECT_THROW(NormalizedFFN(NormalizedFFNOptions{4, 4, 0.0, 0.0, "none", true}), c10::Error);
}

}  // namespace
}  // namespace attnlab::attention
