// Mega's moving-average gated attention sub-layer; see mega_attention.h for the equations, masks,
// chunking and the shapes the context tap sees.
#include "attention/mega/mega_attention.h"

#include <cmath>
#include <limits>

#include "attention/kernels/dropout.h"
#include "attention/mha/mha.h"

namespace attnlab::attention {
namespace {

void check_options(const MegaOptions& o) {
  TORCH_CHECK(o.d_model > 0, "mega: d_model must be positive (got ", o.d_model, ")");
  TORCH_CHECK(o.z_dim > 0, "mega: z_dim must be positive (got ", o.z_dim, ")");
  TORCH_CHECK(o.v_dim >= 0, "mega: v_dim must be >= 0 (0 = 2 * d_model), got ", o.v_dim);
  TORCH_CHECK(o.ema_dim > 0, "mega: ema_dim must be positive (got ", o.ema_dim, ")");
  TORCH_CHECK(o.truncation >= 0, "mega: truncation must be >= 0 (0 = none), got ", o.truncation);
  TORCH_CHECK(
      o.attention_fn == "softmax" || o.attention_fn == "laplace" || o.attention_fn == "relu2",
      "mega: unknown attention_fn '", o.attention_fn, "' (expected softmax | laplace | relu2)");
  TORCH_CHECK(o.rel_pos == "simple" || o.rel_pos == "rotary", "mega: unknown rel_pos '", o.rel_pos,
              "' (expected simple | rotary)");
  TORCH_CHECK(o.max_positions > 0, "mega: max_positions must be positive (got ", o.max_positions,
              ")");
  TORCH_CHECK(o.chunk_size == -1 || o.chunk_size > 0,
              "mega: chunk_size must be -1 (full attention) or positive, got ", o.chunk_size);
  for (const auto& [name, p] : {std::pair<const char*, double>{"dropout", o.dropout},
                                {"attention_dropout", o.attention_dropout},
                                {"hidden_dropout", o.hidden_dropout}}) {
    TORCH_CHECK(p >= 0.0 && p < 1.0, "mega: ", name, " must be in [0, 1) (got ", p, ")");
  }
  TORCH_CHECK(is_sequence_norm_kind(o.norm), "mega: unknown norm '", o.norm,
              "' (expected layer | scale | rms | batch)");
}

// fairseq's initialisation of every projection: weight N(0, 0.02), bias 0.
torch::nn::Linear make_linear(int64_t in, int64_t out) {
  torch::nn::Linear linear(in, out);
  torch::NoGradGuard no_grad;
  linear->weight.normal_(0.0, 0.02);
  linear->bias.zero_();
  return linear;
}

}  // namespace

torch::Tensor mega_laplace(const torch::Tensor& x) {
  const double mu = std::sqrt(0.5);
  const double pi = 3.14159265358979323846;
  const double sigma = std::sqrt(1.0 / (4.0 * pi));
  return 0.5 * (1.0 + torch::erf((x - mu) / (sigma * std::sqrt(2.0))));
}

torch::Tensor mega_relu2(const torch::Tensor& x) { return torch::relu(x).pow(2); }

MegaAttention::MegaAttention(const MegaOptions& options) : options_(options) {
  check_options(options);
  const int64_t d = options.d_model, z = options.z_dim;
  v_dim_ = options.v_dim > 0 ? options.v_dim : 2 * d;
  // Parameter names follow fairseq (`move` is its name for the EMA) so weights map one to one.
  norm_ = register_module("norm", SequenceNorm(options.norm, d));
  move_ = register_module("move", MultiHeadEma(EmaOptions{d, options.ema_dim, options.bidirectional,
                                                          options.truncation}));
  v_proj_ = register_module("v_proj", make_linear(d, v_dim_));
  mx_proj_ = register_module("mx_proj", make_linear(d, 2 * d + z + v_dim_));
  h_proj_ = register_module("h_proj", make_linear(v_dim_, d));
  // Q and K start tiny (scale N(0, 0.02), offset 0): attention begins close to the bias alone.
  gamma_ = register_parameter("gamma", torch::randn({2, z}) * 0.02);
  beta_ = register_parameter("beta", torch::zeros({2, z}));
  // With chunking the bias table spans one chunk (fairseq sizes it by chunk_size).
  const int64_t table = options.chunk_size > 0 ? options.chunk_size : options.max_positions;
  if (options.rel_pos == "simple") {
    simple_bias_ = register_module("rel_pos_bias", SimpleRelativePositionBias(table));
  } else {
    rotary_bias_ = register_module("rel_pos_bias", RotaryRelativePositionBias(z, table));
  }
}

int64_t MegaAttention::max_length() const {
  return options_.chunk_size > 0 ? std::numeric_limits<int64_t>::max() : options_.max_positions;
}

torch::Tensor MegaAttention::relative_bias(int64_t length) const {
  return simple_bias_ ? simple_bias_->forward(length) : rotary_bias_->forward(length);
}

AttentionOutput MegaAttention::forward(const AttentionCall& call, ForwardContext& ctx,
                                       const std::string& site) {
  check_attention_call(call, options_.d_model, "mega");
  const torch::Tensor& x = call.x;
  const int64_t t = x.size(1), d = options_.d_model, z = options_.z_dim;
  TORCH_CHECK(t >= 1, "mega: the sequence must have at least one position");
  TORCH_CHECK(t <= max_length(), "mega: sequence length ", t, " exceeds max_positions ",
              options_.max_positions,
              " (the relative position bias table); raise max_positions or use chunk_size");
  const torch::Tensor mask =
      call.key_padding_mask.defined() ? call.key_padding_mask.to(x.device()) : torch::Tensor();

  const auto x_hat = options_.prenorm ? norm_->forward(x, mask) : x;  // (B,T,D)
  // V comes from the normalised input, not from the EMA output (as in the code).
  const auto v = torch::silu(v_proj_->forward(x_hat));  // (B,T,v)
  auto mx = move_->forward(x_hat, mask, call.causal);   // (B,T,D)
  mx = kernels::dropout(mx, options_.dropout, is_training());

  const auto base = mx_proj_->forward(mx);  // (B,T,2D+z+v) = [u | z | r | hx]
  const auto u = torch::sigmoid(base.narrow(-1, 0, d));
  const auto zr = torch::silu(base.narrow(-1, d, z + v_dim_));
  const auto zs = zr.narrow(-1, 0, z);      // (B,T,z)
  const auto r = zr.narrow(-1, z, v_dim_);  // (B,T,v) reset gate
  const auto hx = base.narrow(-1, d + z + v_dim_, d);
  const auto qk = zs.unsqueeze(2) * gamma_ + beta_;     // (B,T,1,z) * (2,z) -> (B,T,2,z)
  const auto q = qk.select(2, 0), k = qk.select(2, 1);  // (B,T,z) each

  const auto attended = attend(q, k, v, mask, call.causal, ctx, site);  // (B,T,v)
  auto h = torch::silu(hx + h_proj_->forward(attended * r));            // (B,T,D)
  h = kernels::dropout(h, options_.dropout, is_training());
  auto out = x + u * (h - x);  // phi * H + (1 - phi) * X
  if (!options_.prenorm) out = norm_->forward(out, mask);
  return AttentionOutput{out, {}};
}

torch::Tensor MegaAttention::attend(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const torch::Tensor& key_padding_mask,
                                    bool causal, ForwardContext& ctx, const std::string& site) {
  const int64_t b = q.size(0), t = q.size(1), z = q.size(2), vd = v.size(2);
  // One chunk of length T without chunking, or when T is shorter than a chunk (fairseq).
  const int64_t c = options_.chunk_size > 0 ? std::min(options_.chunk_size, t) : t;
  const int64_t chunks = (t + c - 1) / c, padded_t = chunks * c, pad = padded_t - t;

  // Pad to a whole number of chunks; the added positions are padding keys (and cropped queries).
  torch::Tensor mask = key_padding_mask;
  const auto pad_time = [&](const torch::Tensor& y) {
    return pad > 0 ? torch::constant_pad_nd(y, {0, 0, 0, pad}) : y;  // (B,T,.) -> (B,T+pad,.)
  };
  if (pad > 0) {
    const auto bool_opts = torch::TensorOptions().dtype(torch::kBool).device(q.device());
    const auto head = mask.defined() ? mask : torch::zeros({b, t}, bool_opts);
    mask = torch::cat({head, torch::ones({b, pad}, bool_opts)}, 1);  // (B,T+pad)
  }
  const auto qc = pad_time(q).reshape({b * chunks, 1, c, z});                 // (B*nc,1,c,z)
  const auto kc = pad_time(k).reshape({b * chunks, 1, c, z});                 // (B*nc,1,c,z)
  auto vc = pad_time(v).reshape({b * chunks, 1, c, vd});                      // (B*nc,1,c,v)
  const auto mask_c = mask.defined() ? mask.reshape({b * chunks, c}) : mask;  // (B*nc,c)
  const auto masked = attention_key_mask(mask_c, causal, c, c, q.device());   // (B*nc|1,1,c,c)
  const auto bias = relative_bias(c).to(q.scalar_type());                     // (c,c)

  torch::Tensor scores;  // (B*nc,1,c,c)
  const bool softmax = options_.attention_fn == "softmax";
  if (softmax) {
    scores = torch::matmul(qc / std::sqrt(static_cast<double>(z)), kc.transpose(-2, -1)) + bias;
  } else {
    // Element-wise functions do not normalise across keys; dividing by the number of visible
    // keys keeps the score scale independent of the length.
    torch::Tensor visible;
    if (masked.defined()) {
      visible = torch::logical_not(masked)
                    .sum(-1, /*keepdim=*/true)
                    .to(q.scalar_type())
                    .clamp_min(1.0);  // (B*nc|1,1,c,1)
    } else {
      visible = torch::full({1}, static_cast<double>(c), q.options());
    }
    scores = torch::matmul(qc, kc.transpose(-2, -1)) / visible + bias;
  }
  scores = ctx.on_scores(site, scores, mask_c);

  torch::Tensor weights;
  if (softmax) {
    weights = masked_softmax(scores, masked);
  } else {
    weights = options_.attention_fn == "laplace" ? mega_laplace(scores) : mega_relu2(scores);
    if (masked.defined()) weights = weights.masked_fill(masked, 0.0);
  }
  ctx.on_weights(site, weights);
  weights = kernels::dropout(weights, options_.attention_dropout, is_training());
  vc = kernels::dropout(vc, options_.hidden_dropout, is_training());

  const auto h = torch::matmul(weights, vc);            // (B*nc,1,c,v)
  return h.reshape({b, padded_t, vd}).narrow(1, 0, t);  // (B,T,v)
}

}  // namespace attnlab::attention
