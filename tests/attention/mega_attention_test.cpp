// MegaAttention (attention/mega/mega_attention.h) against the notes' identities (§5, 12-16):
// chunking == per-chunk recomputation (c = T, c | T, c not dividing T), causality, padding
// invariance, relative-bias structure, attention-function properties, the context tap, gradients
// by central differences, option errors.
#include "attention/mega/mega_attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "attention/gradcheck.h"
#include "attention/mega_test_util.h"

namespace attnlab::attention {
namespace {

using testing::mega_max_diff;

MegaOptions small_options(const std::string& fn = "softmax", int64_t chunk = -1) {
  MegaOptions o;
  o.d_model = 6;
  o.z_dim = 4;
  o.v_dim = 5;
  o.ema_dim = 3;
  o.attention_fn = fn;
  o.max_positions = 32;
  o.chunk_size = chunk;
  return o;
}

std::shared_ptr<MegaAttention> make_mega(const MegaOptions& o,
                                         torch::Dtype dtype = torch::kDouble) {
  torch::manual_seed(11);
  auto m = std::make_shared<MegaAttention>(o);
  testing::mega_randomize(*m);
  m->to(dtype);
  m->eval();
  return m;
}

torch::Tensor run(MegaAttention& m, const torch::Tensor& x, const torch::Tensor& mask = {},
                  bool causal = false) {
  ForwardContext ctx;
  return m.forward(AttentionCall{x, mask, causal}, ctx, "mega").out;
}

const std::vector<std::string> kFunctions = {"softmax", "laplace", "relu2"};

TEST(MegaAttention, OutputShapeAnyLengthIncludingOne) {
  for (const int64_t t : {1, 2, 9}) {
    auto m = make_mega(small_options("softmax", 4));
    const auto y = run(*m, torch::randn({2, t, 6}, torch::kDouble));
    EXPECT_EQ(y.sizes(), (torch::IntArrayRef{2, t, 6}));
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  }
}

TEST(MegaAttention, FullAttentionMatchesManualComputation) {
  for (const auto& fn : kFunctions) {
    for (const bool prenorm : {true, false}) {
      auto o = small_options(fn);
      o.prenorm = prenorm;
      auto m = make_mega(o);
      const auto x = torch::randn({2, 7, 6}, torch::kDouble);
      EXPECT_LT(mega_max_diff(run(*m, x), testing::mega_manual_forward(*m, x, -1)), 1e-12) << fn;
    }
  }
}

TEST(MegaAttention, ChunkEqualToLengthIsFullAttention) {
  for (const auto& fn : kFunctions) {
    auto full = make_mega(small_options(fn));
    auto chunked = make_mega(small_options(fn, 8));
    testing::mega_copy_parameters(*full, *chunked);
    const auto x = torch::randn({2, 8, 6}, torch::kDouble);
    EXPECT_LT(mega_max_diff(run(*full, x), run(*chunked, x)), 1e-12) << fn;
  }
}

TEST(MegaAttention, ChunksMatchPerChunkComputationDividingOrNot) {
  for (const auto& fn : kFunctions) {
    auto m = make_mega(small_options(fn, 4));
    for (const int64_t t : {3, 8, 10, 13}) {  // shorter than a chunk, c | T, c not dividing T
      const auto x = torch::randn({2, t, 6}, torch::kDouble);
      EXPECT_LT(mega_max_diff(run(*m, x), testing::mega_manual_forward(*m, x, 4)), 1e-12)
          << fn << " T=" << t;
    }
    // And it is not full attention (the chunks do cut information).
    auto full = make_mega(small_options(fn));
    testing::mega_copy_parameters(*m, *full);
    const auto x = torch::randn({2, 13, 6}, torch::kDouble);
    EXPECT_GT(mega_max_diff(run(*m, x), run(*full, x)), 1e-6) << fn;
  }
}

TEST(MegaAttention, CausalModeHasZeroGradientFromTheFuture) {
  for (const auto& fn : kFunctions) {
    for (const int64_t chunk : {-1, 3}) {
      auto m = make_mega(small_options(fn, chunk));  // bidirectional = true
      const int64_t t = 7;
      const auto x = torch::randn({1, t, 6}, torch::kDouble).requires_grad_(true);
      const auto y = run(*m, x, {}, /*causal=*/true);
      for (int64_t i = 0; i < t; ++i) {
        const auto g = torch::autograd::grad({y[0][i].sum()}, {x}, {}, /*retain_graph=*/true)[0];
        // The attention mask is exact; the causal FFT convolution of the EMA leaves round-off
        // (~1e-18 here) in place of the exact zeros of the recurrence.
        const double scale = g.abs().max().item<double>();
        if (i + 1 < t) {
          EXPECT_LT(g[0].narrow(0, i + 1, t - 1 - i).abs().max().item<double>(), 1e-13 * scale)
              << fn << " chunk=" << chunk << " t=" << i;
        }
        EXPECT_GT(g[0][i].abs().max().item<double>(), 1e-6 * scale);
      }
      // Not causal: the future does reach the present.
      const auto y2 = run(*m, x, {}, false);
      const auto g = torch::autograd::grad({y2[0][0].sum()}, {x})[0];
      EXPECT_GT(g[0][t - 1].abs().max().item<double>(), 0.0);
    }
  }
}

TEST(MegaAttention, PaddedValuesDoNotChangeValidOutputs) {
  for (const auto& fn : kFunctions) {
    for (const int64_t chunk : {-1, 4}) {
      for (const std::string norm : {"layer", "batch"}) {
        auto o = small_options(fn, chunk);
        o.norm = norm;
        auto m = make_mega(o);
        m->train();  // batch norm in training mode: statistics must skip padding too
        const auto x = torch::randn({2, 10, 6}, torch::kDouble);
        auto mask = torch::zeros({2, 10}, torch::kBool);
        mask[0].narrow(0, 6, 4).fill_(true);
        mask[1][9] = true;
        auto x2 = x.clone();
        x2.masked_fill_(mask.unsqueeze(-1), 7.0);
        const auto valid = torch::logical_not(mask).unsqueeze(-1);
        const auto y1 = run(*m, x, mask).masked_fill(~valid, 0.0);
        const auto y2 = run(*m, x2, mask).masked_fill(~valid, 0.0);
        EXPECT_LT(mega_max_diff(y1, y2), 1e-12) << fn << " chunk=" << chunk << " " << norm;
        // Appending padding equals the unpadded sequence (bidirectional EMA included).
        m->eval();
        const auto short_y = run(*m, x.narrow(0, 0, 1).narrow(1, 0, 6));
        const auto long_y = run(*m, x.narrow(0, 0, 1), mask.narrow(0, 0, 1)).narrow(1, 0, 6);
        EXPECT_LT(mega_max_diff(short_y, long_y), 1e-12) << fn << " chunk=" << chunk;
      }
    }
  }
}

TEST(MegaAttention, SimpleBiasIsToeplitzAndRotaryDependsOnOffsetOnly) {
  auto simple = make_mega(small_options());
  const auto w = simple->named_parameters()["rel_pos_bias.rel_pos_bias"];
  ASSERT_EQ(w.size(0), 2 * 32 - 1);
  const auto b = simple->relative_bias(6);
  for (int64_t i = 0; i < 6; ++i) {
    for (int64_t j = 0; j < 6; ++j) {
      EXPECT_EQ(b[i][j].item<double>(), w[31 + j - i].item<double>());
    }
  }
  auto o = small_options();
  o.rel_pos = "rotary";
  auto rotary = make_mega(o);
  const auto rb = rotary->relative_bias(9);
  EXPECT_LT(mega_max_diff(rb.narrow(0, 1, 8).narrow(1, 1, 8), rb.narrow(0, 0, 8).narrow(1, 0, 8)),
            1e-12);
  EXPECT_GT(mega_max_diff(rb.narrow(0, 0, 8).narrow(1, 1, 8), rb.narrow(0, 0, 8).narrow(1, 0, 8)),
            1e-6);
  const auto x = torch::randn({2, 7, 6}, torch::kDouble);
  EXPECT_LT(mega_max_diff(run(*rotary, x), testing::mega_manual_forward(*rotary, x, -1)), 1e-12);
}

TEST(MegaAttention, LaplaceIsBoundedMonotoneAndHalfAtMu) {
  // Where float64 can still tell f from 0 and 1: strictly increasing, strictly inside (0, 1).
  const auto s = torch::linspace(-1.5, 2.5, 1001, torch::kDouble);
  const auto f = mega_laplace(s);
  EXPECT_GT(f.min().item<double>(), 0.0);
  EXPECT_LT(f.max().item<double>(), 1.0);
  EXPECT_GT((f.narrow(0, 1, 1000) - f.narrow(0, 0, 1000)).min().item<double>(), 0.0);
  const auto mu = torch::full({1}, std::sqrt(0.5), torch::kDouble);
  EXPECT_NEAR(mega_laplace(mu).item<double>(), 0.5, 1e-15);
  EXPECT_NEAR(mega_relu2(torch::tensor({-2.0, 3.0}, torch::kDouble))[1].item<double>(), 9.0, 0.0);
  EXPECT_EQ(mega_relu2(torch::tensor({-2.0, 3.0}, torch::kDouble))[0].item<double>(), 0.0);
}

TEST(MegaAttention, ElementScoresAreDividedByVisibleKeyCount) {
  for (const std::string fn : {"relu2", "laplace"}) {
    for (const bool causal : {false, true}) {
      auto m = make_mega(small_options(fn));
      const auto x = torch::randn({2, 6, 6}, torch::kDouble);
      auto mask = torch::zeros({2, 6}, torch::kBool);
      mask[1].narrow(0, 4, 2).fill_(true);  // example 1 has 4 keys
      ForwardContext ctx;
      ctx.set_record_scores(true);
      ctx.set_record_weights(true);
      m->forward(AttentionCall{x, mask, causal}, ctx, "s");
      // n = keys the query may see: 6 or 4 (example 1), at most t + 1 when causal.
      auto n = torch::full({2, 1, 6, 1}, 6.0, torch::kDouble);
      n[1].fill_(4.0);
      if (causal) n = torch::minimum(n, torch::arange(1, 7, torch::kDouble).view({1, 1, 6, 1}));
      const auto [q, k] = testing::mega_manual_qk(*m, x, mask, causal);
      const auto expected_scores =
          torch::matmul(q, k.transpose(1, 2)).unsqueeze(1) / n + m->relative_bias(6);
      const auto& s = ctx.scores().at("s");
      EXPECT_LT(mega_max_diff(s, expected_scores), 1e-12) << fn << causal;
      const auto w = ctx.weights().at("s");
      const auto expect = fn == "relu2" ? mega_relu2(s) : mega_laplace(s);
      auto keep = torch::logical_not(mask).view({2, 1, 1, 6});
      if (causal) keep = torch::logical_and(keep, torch::ones({6, 6}, torch::kBool).tril());
      EXPECT_LT(mega_max_diff(w, expect * keep), 1e-15) << fn;
    }
  }
}

TEST(MegaAttention, ContextTapShapesGradPerturbationAndSoftmaxRows) {
  for (const int64_t chunk : {-1, 4}) {
    auto m = make_mega(small_options("softmax", chunk));
    const auto x = torch::randn({2, 10, 6}, torch::kDouble);
    auto mask = torch::zeros({2, 10}, torch::kBool);
    mask[1].narrow(0, 8, 2).fill_(true);
    ForwardContext ctx;
    ctx.set_record_scores(true);
    ctx.set_record_weights(true);
    const auto y = m->forward(AttentionCall{x, mask, false}, ctx, "layer0").out;
    const auto& s = ctx.scores().at("layer0");
    const auto& w = ctx.weights().at("layer0");
    const auto expected =
        chunk > 0 ? std::vector<int64_t>{2 * 3, 1, 4, 4} : std::vector<int64_t>{2, 1, 10, 10};
    EXPECT_EQ(s.sizes(), torch::IntArrayRef(expected));
    EXPECT_EQ(w.sizes(), torch::IntArrayRef(expected));
    EXPECT_EQ(ctx.masks().at("layer0").size(0), expected[0]);
    EXPECT_TRUE(s.requires_grad());
    // Every row of a chunk holding at least one real key sums to 1 (only all-padding chunks,
    // here the last chunk of example 1 after in-module padding, have all-zero rows).
    const auto sums = w.sum(-1);                              // (B*nc,1,c)
    const auto key_mask = ctx.masks().at("layer0");           // (B*nc,c)
    const auto alive = torch::logical_not(key_mask.all(-1));  // chunks with any real key
    EXPECT_LT((sums.squeeze(1).index({alive}) - 1.0).abs().max().item<double>(), 1e-12);
    EXPECT_EQ(alive.logical_not().sum().item<int64_t>(), chunk > 0 ? 1 : 0);
    if (chunk > 0) {
      EXPECT_EQ(w[5].abs().sum().item<double>(), 0.0);  // the all-padding chunk
    }
    EXPECT_TRUE(torch::autograd::grad({y.sum()}, {s}, {}, true, false, true)[0].defined());
    // A perturbation of the scores changes the output.
    ForwardContext ctx2;
    ctx2.set_perturbation("layer0", torch::randn(expected, torch::kDouble));
    const auto y2 = m->forward(AttentionCall{x, mask, false}, ctx2, "layer0").out;
    EXPECT_GT(mega_max_diff(y, y2), 1e-6);
  }
}

TEST(MegaAttention, ClosedUpdateGatePassesResidualThrough) {
  auto m = make_mega(small_options());
  {
    torch::NoGradGuard no_grad;
    m->mx_proj()->bias.narrow(0, 0, 6).fill_(-1e4);  // u -> -inf, phi = 0
  }
  const auto x = torch::randn({2, 5, 6}, torch::kDouble);
  EXPECT_LT(mega_max_diff(run(*m, x), x), 1e-12);
}

TEST(MegaAttention, Float32AgreesWithFloat64) {
  for (const int64_t chunk : {-1, 4}) {
    auto m64 = make_mega(small_options("laplace", chunk));
    auto m32 = make_mega(small_options("laplace", chunk), torch::kFloat);
    const auto x = torch::randn({2, 9, 6}, torch::kDouble);
    const auto y32 = run(*m32, x.to(torch::kFloat));
    EXPECT_EQ(y32.scalar_type(), torch::kFloat);
    EXPECT_LT(mega_max_diff(y32, run(*m64, x)), 1e-4);
  }
}

TEST(MegaAttention, GradientsMatchFiniteDifferences) {
  auto o = small_options("softmax", 3);
  o.d_model = 4;
  o.z_dim = 2;
  o.v_dim = 3;
  o.ema_dim = 2;
  o.prenorm = false;
  auto m = make_mega(o);
  const auto x = torch::randn({2, 5, 4}, torch::kDouble).requires_grad_(true);
  auto mask = torch::zeros({2, 5}, torch::kBool);
  mask[1][4] = true;
  const auto weights = torch::randn({2, 5, 4}, torch::kDouble);
  const auto loss = [&] { return (run(*m, x, mask) * weights).sum(); };
  for (const auto& item : m->named_parameters()) {
    const auto r = testing::gradcheck(loss, item.value());
    EXPECT_LT(r.max_abs_error, 1e-6 * std::max(1.0, r.max_abs_grad)) << item.key();
  }
  const auto r = testing::gradcheck(loss, x);
  EXPECT_LT(r.max_abs_error, 1e-6 * std::max(1.0, r.max_abs_grad));
}

void expect_error(const MegaOptions& o, const std::string& text) {
  try {
    MegaAttention m(o);
    FAIL() << "expected an error containing: " << text;
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(MegaAttention, InvalidOptionsAndLengthsGiveClearMessages) {
  auto o = small_options();
  o.chunk_size = 0;
  expect_error(o, "chunk_size must be -1 (full attention) or positive, got 0");
  o = small_options("sparsemax");
  expect_error(o, "unknown attention_fn 'sparsemax' (expected softmax | laplace | relu2)");
  o = small_options();
  o.d_model = 0;
  expect_error(o, "d_model must be positive (got 0)");
  o = small_options();
  o.norm = "group";
  expect_error(o, "unknown norm 'group'");
  o = small_options();
  o.rel_pos = "rotary";
  o.z_dim = 3;
  expect_error(o, "rotary relative bias needs an even z_dim");

  auto m = make_mega(small_options());
  EXPECT_EQ(m->max_length(), 32);
  try {
    run(*m, torch::randn({1, 33, 6}, torch::kDouble));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sequence length 33 exceeds max_positions 32"),
              std::string::npos)
        << e.what();
  }
  auto chunked = make_mega(small_options("softmax", 8));
  EXPECT_EQ(chunked->max_length(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(run(*chunked, torch::randn({1, 45, 6}, torch::kDouble)).size(1), 45);
}

}  // namespace
}  // namespace attnlab::attention
