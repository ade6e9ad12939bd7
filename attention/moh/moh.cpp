// Mixture-of-Head attention; see moh.h for the equations and shapes, README.md for the skip path.
#include "attention/moh/moh.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "attention/kernels/cuda_kernels.h"
#include "attention/kernels/dropout.h"
#include "attention/mha/mha.h"

namespace attnlab::attention {
namespace {

torch::nn::Linear make_linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

}  // namespace

MixtureOfHeadsAttention::MixtureOfHeadsAttention(const MohOptions& options) : options_(options) {
  const int64_t d = options.d_model, h = options.heads, h_s = options.shared_heads;
  const int64_t k = options.routed_topk;
  TORCH_CHECK(d > 0, "moh: d_model must be positive (got ", d, ")");
  TORCH_CHECK(h > 0, "moh: heads must be positive (got ", h, ")");
  TORCH_CHECK(d % h == 0, "moh: d_model (", d, ") must be divisible by heads (", h, ")");
  TORCH_CHECK(h_s >= 0 && h_s <= h, "moh: shared_heads=", h_s, " must be in [0, heads ", h, "]");
  TORCH_CHECK(k >= 0, "moh: routed_topk=", k, " must not be negative");
  TORCH_CHECK(k <= h - h_s, "moh: routed_topk=", k, " is more than the ", h - h_s,
              " routed heads (heads ", h, " - shared_heads ", h_s, ")");
  TORCH_CHECK(k > 0 || h_s == h, "moh: routed_topk=0 would leave the ", h - h_s,
              " routed heads (heads ", h, " - shared_heads ", h_s,
              ") unused; for an all-shared layer set shared_heads=", h);
  TORCH_CHECK(options.router == "learned" || options.router == "query_norm",
              "moh: router must be 'learned' or 'query_norm' (got '", options.router, "')");
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0,
              "moh: dropout must be in [0, 1) (got ", options.dropout, ")");
  TORCH_CHECK(options.balance_weight >= 0.0, "moh: balance_weight must not be negative (got ",
              options.balance_weight, ")");

  q_proj_ = register_module("q_proj", make_linear(d, d, options.bias));
  k_proj_ = register_module("k_proj", make_linear(d, d, options.bias));
  v_proj_ = register_module("v_proj", make_linear(d, d, options.bias));
  out_proj_ = register_module("out_proj", make_linear(d, d, options.bias));
  if (options.router == "learned") {
    // The same existence conditions as the official code, so its checkpoints map one to one.
    if (k > 0) wg_ = register_module("wg", make_linear(d, h - h_s, false));
    if (k > 0 && h_s > 0) wg_0_ = register_module("wg_0", make_linear(d, 2, false));
    if (h_s > 1) wg_1_ = register_module("wg_1", make_linear(d, h_s, false));
  }
}

torch::Tensor MixtureOfHeadsAttention::skip_heads(const torch::Tensor& q, const torch::Tensor& k,
                                                  const torch::Tensor& v,
                                                  const torch::Tensor& selected,
                                                  const AttentionCall& call,
                                                  const ForwardContext& ctx) {
  const int64_t batch = q.size(0), t = q.size(2), d_h = head_dim();
  const int64_t h_s = options_.shared_heads, h_r = routed_heads();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d_h));
  std::vector<torch::Tensor> parts;
  // The CUDA kernel computes exactly the listed rows (head-sparse); ATen computes the padding
  // slots too and drops them. (The skip path runs only when nothing observes the site.)
  const bool fused = fused_attention_applies(q, options_.dropout, is_training(), ctx);
  if (h_s > 0 && fused) {
    parts.push_back(kernels::tap_attention(q.narrow(1, 0, h_s), k.narrow(1, 0, h_s),
                                           v.narrow(1, 0, h_s), {}, call.key_padding_mask,
                                           call.causal, scale)
                        .out);  // (B,h_s,T,d_h)
  } else if (h_s > 0) {
    // Shared heads serve every token: nothing to skip.
    const auto masked = attention_key_mask(call.key_padding_mask, call.causal, t, t, q.device());
    const auto scores =
        torch::matmul(q.narrow(1, 0, h_s) * scale, k.narrow(1, 0, h_s).transpose(-2, -1));
    auto weights = masked_softmax(scores, masked);  // (B,h_s,T,T)
    weights = kernels::dropout(weights, options_.dropout, is_training());
    parts.push_back(torch::matmul(weights, v.narrow(1, 0, h_s)));  // (B,h_s,T,d_h)
  }
  if (h_r > 0) {
    const auto q_r = q.narrow(1, h_s, h_r), k_r = k.narrow(1, h_s, h_r),
               v_r = v.narrow(1, h_s, h_r);
    const auto sel = selected.narrow(-1, h_s, h_r).transpose(1, 2);  // (B,h_r,T) bool
    const auto counts = sel.sum(-1);                                 // (B,h_r)
    // Compact each (example, head)'s selected query rows into slots 0..count-1 (sorting "not
    // selected" ascending puts the selected tokens first, in order); n slots cover the busiest
    // head, the rest of a shorter list is padding that is computed and then dropped.
    const int64_t n = std::max<int64_t>(counts.max().item<int64_t>(), 1);
    const auto order = std::get<1>(torch::sort(sel.logical_not().to(torch::kInt), /*stable=*/true,
                                               /*dim=*/-1, /*descending=*/false));  // (B,h_r,T)
    const auto slots = order.narrow(-1, 0, n);                                      // (B,h_r,n)
    const auto slot_used =
        torch::arange(n, counts.options()).view({1, 1, n}) < counts.unsqueeze(-1);  // (B,h_r,n)
    const auto row_index = slots.unsqueeze(-1).expand({batch, h_r, n, d_h});        // (B,h_r,n,d_h)
    if (fused) {
      const auto out_sel = kernels::tap_attention(q_r, k_r, v_r, {}, call.key_padding_mask,
                                                  call.causal, scale, slots, counts)
                               .out;  // (B,h_r,n,d_h), zeros in padding slots
      parts.push_back(
          torch::zeros({batch, h_r, t, d_h}, q.options()).scatter(2, row_index, out_sel));
      return torch::cat(parts, 1);  // (B,H,T,d_h)
    }
    const auto q_sel = q_r.gather(2, row_index);                                    // (B,h_r,n,d_h)
    const auto scores = torch::matmul(q_sel * scale, k_r.transpose(-2, -1));        // (B,h_r,n,T)

    // mha's mask, with the causal part taken from each slot's own query position.
    torch::Tensor masked;
    if (call.key_padding_mask.defined()) {
      masked = call.key_padding_mask.to(q.device()).view({batch, 1, 1, t});  // (B,1,1,T)
    }
    if (call.causal) {
      const auto key_pos = torch::arange(t, slots.options()).view({1, 1, 1, t});
      const auto future = key_pos > slots.unsqueeze(-1);  // (B,h_r,n,T)
      masked = masked.defined() ? torch::logical_or(masked, future) : future;
    }
    auto weights = masked_softmax(scores, masked);  // (B,h_r,n,T)
    weights = kernels::dropout(weights, options_.dropout, is_training());
    auto out_sel = torch::matmul(weights, v_r);  // (B,h_r,n,d_h)
    // Padding slots hold real but unselected rows; select (not multiply) them away.
    out_sel = torch::where(slot_used.unsqueeze(-1), out_sel, torch::zeros_like(out_sel));
    // Slots of one (example, head) are distinct tokens, so the scatter never collides.
    parts.push_back(torch::zeros({batch, h_r, t, d_h}, q.options()).scatter(2, row_index, out_sel));
  }
  return torch::cat(parts, 1);  // (B,H,T,d_h)
}

AttentionOutput MixtureOfHeadsAttention::forward(const AttentionCall& call, ForwardContext& ctx,
                                                 const std::string& site) {
  check_attention_call(call, options_.d_model, "moh");
  const torch::Tensor& x = call.x;
  const int64_t batch = x.size(0), t = x.size(1), h = options_.heads, d_h = head_dim();
  const torch::Tensor valid =
      call.key_padding_mask.defined() ? call.key_padding_mask.logical_not() : torch::Tensor();

  const auto split_heads = [&](const torch::Tensor& y) {
    return y.view({batch, t, h, d_h}).transpose(1, 2);  // (B,T,D) -> (B,H,T,d_h)
  };
  const auto q = split_heads(q_proj_->forward(x));
  const auto k = split_heads(k_proj_->forward(x));
  const auto v = split_heads(v_proj_->forward(x));

  const bool learned = options_.router == "learned";
  RoutingResult routing = learned
                              ? route_learned(x, valid, wg_, wg_0_, wg_1_, h, options_.shared_heads,
                                              options_.routed_topk, is_training())
                              : route_query_norm(q, options_.shared_heads, options_.routed_topk);

  // The skip path never forms the full scores, so it runs only when nothing observes this site;
  // a recording or perturbing context gets the dense path and the real (B,H,T,T) tensors.
  last_skipped_ = options_.skip_unselected && routed_heads() > 0 && !ctx.observes(site);
  if (last_skipped_) ctx.visit(site);
  // Dense heads go through the tap exactly as mha's (B,H,T,d_h).
  const auto heads_out =
      last_skipped_ ? skip_heads(q, k, v, routing.selected, call, ctx)
                    : tapped_attention(q, k, v, call, ctx, site, options_.dropout, is_training());

  const auto gates = routing.gates.to(heads_out.scalar_type()).transpose(1, 2).unsqueeze(-1);
  const auto gated = heads_out * gates;                                              // (B,H,T,d_h)
  const auto merged = gated.transpose(1, 2).contiguous().view({batch, t, h * d_h});  // (B,T,D)

  AttentionOutput output{out_proj_->forward(merged), {}};
  if (routing.balance.defined()) {
    output.aux_losses.push_back(
        AuxLoss{"moh_balance", routing.balance,
                options_.balance_weight});
  }

  {
    torch::NoGradGuard no_grad;
    // Routing statistics over the real (non-padded) tokens, on the device: no host read here.
    const auto used = routing.selected.to(torch::kFloat).reshape({-1, h});  // (B*T,H)
    const auto w = valid.defined() ? valid.reshape({-1, 1}).to(torch::kFloat)
                                   : torch::ones({batch * t, 1}, used.options());  // (B*T,1)
    const auto head_usage = (used * w).sum(0) / w.sum().clamp_min(1.0);           // (H)
    ctx.report(site, "moh_head_usage", head_usage);
    ctx.report(site, "moh_active_fraction", head_usage.sum() / static_cast<double>(h));
    last_valid_ = w;
    const auto balance = routing.balance.defined() ? routing.balance.detach() : torch::Tensor();
    last_routing_ = RoutingResult{routing.gates.detach(), routing.selected, balance};
  }
  return output;
}

RoutingStats MixtureOfHeadsAttention::last_routing_stats() const {
  RoutingStats stats;
  if (!last_routing_.selected.defined()) return stats;
  const int64_t h = last_routing_.selected.size(-1);
  const auto used = last_routing_.selected.to(torch::kFloat).reshape({-1, h});
  stats.tokens = static_cast<int64_t>(std::llround(last_valid_.sum().item<double>()));
  stats.head_usage = ((used * last_valid_).sum(0) / std::max<int64_t>(stats.tokens, 1)).cpu();
  stats.active_fraction = stats.head_usage.sum().item<double>() / static_cast<double>(h);
  return stats;
}

}  // namespace attnlab::attention
