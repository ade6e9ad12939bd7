// The entropy regularizer from recorded row entropies (what the trainer records now, and what the
// fused CUDA attention kernel gives without the weights) equals the term from recorded weights,
// value and gradient, on every attention kind (mha, moh, mega, additive pooling whose rows attend
// over N keys from one query), padded, plain and normalised; and MoH's skip path steps aside when
// row entropies are recorded, since it would not compute every row.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "framework/objective/attention_entropy.h"
#include "regularizer_test_util.h"

namespace attnlab::objective {
namespace {

using testing::padded_batch;
using testing::tiny_model;

// The AEM term and the gradient of the first parameter, from a context recording `what`.
std::pair<double, torch::Tensor> term_and_grad(const std::string& kind, bool row_entropy,
                                               bool normalized) {
  auto model = tiny_model(kind);
  const auto in = padded_batch({5, 12, 1}, 12);
  attention::ForwardContext ctx;
  ctx.set_record_weights(!row_entropy);
  ctx.set_record_row_entropy(row_entropy);
  const auto out = model->forward(in, ctx);
  EXPECT_EQ(ctx.weights().empty(), row_entropy) << kind;
  EXPECT_EQ(ctx.row_entropies().empty(), !row_entropy) << kind;
  AttentionEntropyOptions options;
  options.normalized = normalized;
  AttentionEntropy aem(options);
  const torch::Tensor none, loss = torch::zeros({});
  const auto term = aem.compute({*model, in, none, out, ctx, loss, 0, nullptr, 1.0});
  term.backward();
  const auto first = model->parameters().front();
  return {term.item<double>(), first.grad().clone()};
}

TEST(AttentionEntropyRows, RowEntropiesGiveTheTermOfTheWeights) {
  for (const std::string kind : {"mha", "moh", "mega", "bilstm"}) {
    for (const bool normalized : {false, true}) {
      const auto [from_weights, grad_weights] = term_and_grad(kind, false, normalized);
      const auto [from_rows, grad_rows] = term_and_grad(kind, true, normalized);
      EXPECT_NEAR(from_rows, from_weights, 1e-12) << kind << " normalized=" << normalized;
      EXPECT_LT(from_rows, 0.0) << kind;  // -H, and these rows have more than one key
      EXPECT_LT((grad_rows - grad_weights).abs().max().item<double>(), 1e-12) << kind;
    }
  }
}

TEST(AttentionEntropyRows, ContextRecordsRowEntropiesOnlyWhenAskedAndObservesThem) {
  attention::ForwardContext ctx;
  EXPECT_FALSE(ctx.observes("layer0"));
  const auto w = torch::softmax(torch::randn({2, 1, 3, 3}, torch::kDouble), -1);
  ctx.on_scores("layer0", w, torch::Tensor());
  ctx.on_weights("layer0", w);
  ctx.on_row_entropy("layer1", torch::zeros({2, 1, 3}), torch::ones({2, 1, 3}, torch::kBool), {},
                     3);
  EXPECT_TRUE(ctx.row_entropies().empty());

  ctx.set_record_row_entropy(true);
  EXPECT_TRUE(ctx.observes("layer0")) << "MoH's skip path must not run: it computes some rows only";
  EXPECT_FALSE(ctx.records()) << "a fused kernel that reports row entropies may still run";
  ctx.on_scores("layer0", w, torch::Tensor());
  ctx.on_weights("layer0", w);
  const auto expected = -(w * w.log()).sum(-1);
  EXPECT_LT((ctx.row_entropies().at("layer0") - expected).abs().max().item<double>(), 1e-12);
  EXPECT_EQ(ctx.row_entropy_keys().at("layer0"), 3);
  ctx.on_row_entropy("layer1", torch::ones({2, 1, 3}), torch::ones({2, 1, 3}, torch::kBool), {}, 3);
  EXPECT_EQ(ctx.row_entropies().at("layer1").sum().item<double>(), 6.0);
}

}  // namespace
}  // namespace attnlab::objective
