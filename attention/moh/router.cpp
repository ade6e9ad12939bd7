// MoH routers and load-balance loss; see router.h for the equations and shapes.
#include "attention/moh/router.h"

#include <limits>

namespace attnlab::attention {
namespace {

// Gate softmaxes run in at least float32 (the code does so under autocast): a half-precision
// softmax over few heads would make the renormalised gates visibly inexact.
torch::ScalarType router_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
}

// finfo(dtype).eps, the code's floor for the sum of the selected routed probabilities.
double dtype_eps(torch::ScalarType dtype) {
  return dtype == torch::kDouble ? std::numeric_limits<double>::epsilon()
                                 : static_cast<double>(std::numeric_limits<float>::epsilon());
}

// One-hot of the top-K entries along the last dimension, 0/1 in p's dtype and without a graph.
torch::Tensor top_k_mask(const torch::Tensor& p, int64_t k) {
  const auto indices = std::get<1>(p.detach().topk(k, -1));  // (B,T,K)
  return torch::zeros_like(p).detach().scatter(-1, indices, 1.0);
}

}  // namespace

torch::Tensor load_balance_loss(const torch::Tensor& probs, const torch::Tensor& routed_mask,
                                const torch::Tensor& valid) {
  const int64_t h_r = probs.size(-1);
  const auto p = probs.reshape({-1, h_r});                 // (B*T, h_r)
  const auto m = routed_mask.detach().reshape({-1, h_r});  // (B*T, h_r), constant
  // Padding tokens are not tokens of the batch: they take no part in P or f (the code has no
  // padding; counting them would push the router to balance on filler).
  const auto w = valid.defined() ? valid.reshape({-1, 1}).to(p.scalar_type())
                                 : torch::ones({p.size(0), 1}, p.options());  // (B*T, 1)
  const auto count = w.sum().clamp_min(1.0);
  const auto mean_prob = (p * w).sum(0) / count;  // P (h_r)
  const auto fraction = (m * w).sum(0) / count;   // f (h_r), sums to K
  return (mean_prob * fraction).sum() * static_cast<double>(h_r);
}

RoutingResult route_learned(const torch::Tensor& x, const torch::Tensor& valid,
                            torch::nn::Linear wg, torch::nn::Linear wg_0, torch::nn::Linear wg_1,
                            int64_t heads, int64_t shared_heads, int64_t routed_topk,
                            bool with_balance) {
  const int64_t batch = x.size(0), t = x.size(1), h_r = heads - shared_heads;
  const auto dtype = router_dtype(x);
  const auto ones = torch::ones({batch, t, 1}, x.options().dtype(dtype));  // (B,T,1)

  RoutingResult result;
  torch::Tensor shared_gates, routed_gates, routed_mask;
  if (shared_heads > 1) {
    shared_gates =
        torch::softmax(wg_1->forward(x).to(dtype), -1) * static_cast<double>(shared_heads);
  } else if (shared_heads == 1) {
    shared_gates = ones;  // ViT code: a single shared head has weight 1 (DiT code would crash)
  }
  if (routed_topk > 0) {
    const auto probs = torch::softmax(wg->forward(x).to(dtype), -1);  // (B,T,h_r)
    routed_mask = top_k_mask(probs, routed_topk);                     // (B,T,h_r)
    const auto kept = probs * routed_mask;
    const auto denom = kept.sum(-1, /*keepdim=*/true).clamp_min(dtype_eps(dtype));
    routed_gates = kept / denom * static_cast<double>(routed_topk);
    if (with_balance) result.balance = load_balance_loss(probs, routed_mask, valid);
    if (shared_heads > 0) {
      const auto alpha = torch::softmax(wg_0->forward(x).to(dtype), -1) * 2.0;  // (B,T,2)
      shared_gates = shared_gates * alpha.narrow(-1, 0, 1);
      routed_gates = routed_gates * alpha.narrow(-1, 1, 1);
    }
  }
  TORCH_INTERNAL_ASSERT(routed_topk > 0 || h_r == 0, "moh: routed heads without routed_topk");

  std::vector<torch::Tensor> gates, selected;
  if (shared_heads > 0) {
    gates.push_back(shared_gates);
    selected.push_back(torch::ones({batch, t, shared_heads}, x.options().dtype(torch::kBool)));
  }
  if (h_r > 0) {
    gates.push_back(routed_gates);
    selected.push_back(routed_mask.to(torch::kBool));
  }
  result.gates = torch::cat(gates, -1);        // (B,T,H)
  result.selected = torch::cat(selected, -1);  // (B,T,H)
  return result;
}

RoutingResult route_query_norm(const torch::Tensor& q, int64_t shared_heads, int64_t routed_topk) {
  const int64_t batch = q.size(0), heads = q.size(1), t = q.size(2);
  const int64_t h_r = heads - shared_heads;
  const auto dtype = router_dtype(q);
  RoutingResult result;
  auto gates = torch::ones({batch, t, heads}, q.options().dtype(dtype));  // (B,T,H)
  if (h_r > 0) {
    // The gates are binary, so nothing here is differentiated.
    auto logits = q.detach().narrow(1, shared_heads, h_r).to(dtype).norm(2, -1);  // (B,h_r,T)
    logits = logits.transpose(1, 2);                                              // (B,T,h_r)
    if (h_r > 1) {
      // Unbiased std across the routed heads, as torch.std in the LLaMA3 code. Dividing by a
      // positive per-token constant does not change the top-K; it only sets the softmax's
      // temperature, kept for fidelity should p be logged.
      const auto centred = logits - logits.mean(-1, /*keepdim=*/true);
      const auto std = (centred * centred).sum(-1, true).div(static_cast<double>(h_r - 1)).sqrt();
      logits = logits / std.clamp_min(dtype_eps(dtype));
    }
    const auto probs = torch::softmax(logits, -1);     // (B,T,h_r)
    const auto mask = top_k_mask(probs, routed_topk);  // (B,T,h_r)
    gates.narrow(-1, shared_heads, h_r).copy_(mask);
  }
  result.gates = gates;
  result.selected = gates.to(torch::kBool);
  return result;
}

}  // namespace attnlab::attention
