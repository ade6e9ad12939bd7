// The torch side of the fused tap attention kernels (built only against a CUDA LibTorch):
// argument checks, layouts, and the autograd function (cuda/tap_attention.h).
#include <c10/cuda/CUDAGuard.h>

#include <limits>

#include "attention/kernels/cuda/cuda_glue.h"
#include "attention/kernels/cuda/tap_attention.h"
#include "attention/kernels/cuda_kernels.h"

namespace attnlab::attention::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

template <typename T>
const T* optional_ptr(const torch::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

TapAttentionInputs inputs_of(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& perturbation, const torch::Tensor& key_padding,
                             const torch::Tensor& rows, const torch::Tensor& row_count) {
  TapAttentionInputs in;
  in.q = q.data_ptr();
  in.k = k.data_ptr();
  in.v = v.data_ptr();
  in.perturbation = optional_ptr<float>(perturbation);
  in.key_padding = optional_ptr<uint8_t>(key_padding);
  in.rows = optional_ptr<int64_t>(rows);
  in.row_count = optional_ptr<int64_t>(row_count);
  return in;
}

TapAttentionShape shape_of(const torch::Tensor& q, const torch::Tensor& k,
                           const torch::Tensor& rows, bool causal, double scale) {
  TapAttentionShape s;
  s.batch = q.size(0);
  s.heads = q.size(1);
  s.queries = q.size(2);
  s.keys = k.size(2);
  s.head_dim = q.size(3);
  s.slots = rows.defined() ? rows.size(2) : q.size(2);
  s.scale = static_cast<float>(scale);
  s.causal = causal;
  return s;
}

class TapAttentionFunction : public torch::autograd::Function<TapAttentionFunction> {
 public:
  // key_padding uint8, rows and row_count int64: contiguous or undefined, never differentiated.
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& perturbation,
                             const torch::Tensor& key_padding, const torch::Tensor& rows,
                             const torch::Tensor& row_count, bool causal, double scale) {
    const auto s = shape_of(q, k, rows, causal, scale);
    auto out = torch::empty({s.batch, s.heads, s.slots, s.head_dim}, q.options());
    const auto float_options = q.options().dtype(torch::kFloat);
    auto lse = torch::empty({s.batch, s.heads, s.slots}, float_options);
    auto entropy = torch::empty({s.batch, s.heads, s.slots}, float_options);
    check_kernel(
        tap_attention_forward(inputs_of(q, k, v, perturbation, key_padding, rows, row_count),
                              element_type(q), out.data_ptr(), lse.data_ptr<float>(),
                              entropy.data_ptr<float>(), s, current_stream(q)),
        "tap_attention_forward");
    ctx->save_for_backward(
        {q, k, v, perturbation, key_padding, rows, row_count, out, lse, entropy});
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["scale"] = scale;
    ctx->mark_non_differentiable({lse});
    return {out, entropy, lse};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &q = saved[0], &k = saved[1], &v = saved[2], &perturbation = saved[3],
               &key_padding = saved[4], &rows = saved[5], &row_count = saved[6], &out = saved[7],
               &lse = saved[8], &entropy = saved[9];
    const auto s = shape_of(q, k, rows, ctx->saved_data["causal"].toBool(),
                            ctx->saved_data["scale"].toDouble());
    const auto d_out =
        grads[0].defined() ? grads[0].to(q.scalar_type()).contiguous() : torch::zeros_like(out);
    const auto d_entropy =
        grads[1].defined() ? grads[1].to(torch::kFloat).contiguous() : torch::Tensor();
    const auto float_options = q.options().dtype(torch::kFloat);
    auto dq = torch::zeros(q.sizes(), float_options), dk = torch::zeros(k.sizes(), float_options),
         dv = torch::zeros(v.sizes(), float_options);
    auto dp = perturbation.defined() ? torch::zeros_like(perturbation) : torch::Tensor();
    check_kernel(tap_attention_backward(
                     inputs_of(q, k, v, perturbation, key_padding, rows, row_count),
                     element_type(q), out.data_ptr(), lse.data_ptr<float>(),
                     entropy.data_ptr<float>(), d_out.data_ptr(), optional_ptr<float>(d_entropy),
                     dq.data_ptr<float>(), dk.data_ptr<float>(), dv.data_ptr<float>(),
                     dp.defined() ? dp.data_ptr<float>() : nullptr, s, current_stream(q)),
                 "tap_attention_backward");
    return {dq.to(q.scalar_type()), dk.to(k.scalar_type()), dv.to(v.scalar_type()), dp,
            torch::Tensor(),        torch::Tensor(),        torch::Tensor(),        torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool tap_attention_applies(const torch::Tensor& q) {
  return cuda_kernels_enabled() && q.is_cuda() && q.dim() == 4 &&
         tap_attention_supports(q.size(3)) &&
         (q.scalar_type() == torch::kFloat || q.scalar_type() == torch::kBFloat16);
}

TapAttentionOutput tap_attention(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, const torch::Tensor& perturbation,
                                 const torch::Tensor& key_padding_mask, bool causal, double scale,
                                 const torch::Tensor& rows, const torch::Tensor& row_count) {
  TORCH_CHECK(tap_attention_applies(q),
              "tap_attention: q must be (B, H, T, d <= 128) float32 or "
              "bfloat16 on a CUDA device");
  TORCH_CHECK(k.dim() == 4 && v.sizes() == k.sizes() && k.size(0) == q.size(0) &&
                  k.size(1) == q.size(1) && k.size(3) == q.size(3) &&
                  k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              "tap_attention: k and v must be (B, H, Tk, d) like q, got ", k.sizes(), ", ",
              v.sizes());
  TORCH_CHECK(rows.defined() == row_count.defined(),
              "tap_attention: rows and row_count go together");
  TORCH_CHECK(!(rows.defined() && perturbation.defined()),
              "tap_attention: a perturbation needs dense rows");
  const c10::cuda::CUDAGuard guard(q.device());
  const int64_t b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2);
  const auto p =
      perturbation.defined()
          ? perturbation.to(q.device(), torch::kFloat).expand({b, h, tq, tk}).contiguous()
          : torch::Tensor();
  torch::Tensor pad;
  if (key_padding_mask.defined()) {
    TORCH_CHECK(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == b &&
                    key_padding_mask.size(1) == tk,
                "tap_attention: key_padding_mask must be (B, Tk), got ", key_padding_mask.sizes());
    pad = key_padding_mask.to(q.device(), torch::kByte).contiguous();
  }
  torch::Tensor r, count;
  if (rows.defined()) {
    TORCH_CHECK(rows.dim() == 3 && rows.size(0) == b && rows.size(1) == h &&
                    row_count.sizes() == torch::IntArrayRef({b, h}),
                "tap_attention: rows must be (B, H, n) and row_count (B, H)");
    r = rows.to(q.device(), torch::kLong).contiguous();
    count = row_count.to(q.device(), torch::kLong).contiguous();
  }
  const auto outputs = TapAttentionFunction::apply(q.contiguous(), k.contiguous(), v.contiguous(),
                                                   p, pad, r, count, causal, scale);
  return {outputs[0], outputs[1], outputs[2] > -std::numeric_limits<float>::infinity()};
}

}  // namespace attnlab::attention::kernels
