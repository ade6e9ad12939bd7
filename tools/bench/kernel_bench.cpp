// The kernel benchmark; see kernel_bench.h.
#include "tools/bench/kernel_bench.h"

#include <chrono>
#include <functional>
#include <map>

#include "attention/context.h"
#include "attention/kernels/cuda_kernels.h"
#include "attention/kernels/dropout.h"
#include "attention/mega/ema.h"
#include "attention/mha/mha.h"
#include "attention/moh/moh.h"
#include "framework/errors.h"
#include "tools/bench/median.h"

namespace attnlab::tools {
namespace {

using Clock = std::chrono::steady_clock;

// Default lengths: the EMA is linear in T; the attention cases are quadratic (and the ATen side
// stores (B, H, T, T) scores).
const std::vector<int64_t> kEmaLengths = {1024, 2048, 4096, 8192, 16384};
const std::vector<int64_t> kAttentionLengths = {512, 1024, 2048, 4096};
const std::vector<int64_t> kDropoutLengths = {256, 1024, 4096};

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Median milliseconds of `repeats` calls of f after `warmup` untimed ones.
double time_ms(const std::function<void()>& f, const KernelBenchSettings& s,
               const torch::Device& device) {
  for (int64_t i = 0; i < s.warmup; ++i) f();
  std::vector<double> ms;
  for (int64_t i = 0; i < s.repeats; ++i) {
    synchronize(device);
    const auto start = Clock::now();
    f();
    synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return median_of(ms);
}

// (read + write) GB/s of copying 512 MiB on a GPU (64 MiB on a CPU, where it only checks the
// table).
double copy_bandwidth_gbps(const torch::Device& device, const KernelBenchSettings& s) {
  const int64_t floats = device.is_cuda() ? 128ll << 20 : 16ll << 20;
  const auto src = torch::ones({floats}, torch::TensorOptions().device(device));
  auto dst = torch::empty_like(src);
  const double ms = time_ms([&] { dst.copy_(src); }, s, device);
  return 2.0 * 4.0 * static_cast<double>(floats) / (ms * 1e6);
}

torch::ScalarType dtype_named(const std::string& name) {
  if (name == "float32") return torch::kFloat;
  if (name == "bfloat16") return torch::kBFloat16;
  throw UserError("--dtypes: unknown dtype '" + name + "' (float32, bfloat16)");
}

// One case at one (dtype, T): what to time, and the bytes a memory-bound kernel must move.
struct Case {
  std::function<torch::Tensor()> run;  // returns the output compared between kernel and ATen
  double essential_bytes = 0.0;
  // A kernel that is not a CUDA switch (the CPU dropout): timed against `run` on any device.
  std::function<torch::Tensor()> kernel_run;
};

using CaseMaker = std::function<Case(const KernelBenchSettings&, const torch::Device&,
                                     torch::ScalarType, int64_t)>;

Case ema_case(const KernelBenchSettings& s, const torch::Device& device, torch::ScalarType dtype,
              int64_t t, bool backward) {
  torch::manual_seed(0);
  attention::MultiHeadEma ema(attention::EmaOptions{s.d_model, 16, /*bidirectional=*/true, 0});
  ema->to(device);
  const auto x = torch::randn({s.batch, t, s.d_model}, torch::TensorOptions().device(device))
                     .to(dtype)
                     .requires_grad_(backward);
  const double elements = static_cast<double>(s.batch * t * s.d_model);
  const double bytes = elements * static_cast<double>(torch::elementSize(dtype));
  Case c;
  // Forward reads x and writes y; backward also reads dy (and x) and writes dx.
  c.essential_bytes = backward ? 5.0 * bytes : 2.0 * bytes;
  c.run = [ema, x, backward]() mutable {
    if (!backward) {
      torch::NoGradGuard no_grad;
      return ema->moving_average(x, {}, /*causal=*/false);
    }
    x.mutable_grad() = torch::Tensor();  // each call's dx alone, not a running sum
    ema->zero_grad();
    auto y = ema->moving_average(x, {}, /*causal=*/false);
    y.sum().backward();
    return x.grad().clone();
  };
  return c;
}

// Softmax attention with the row entropy, forward + backward of sum(out) + sum(entropy): the
// fused kernel when the switch is on, else ATen's scores, masked softmax and entropy (the path
// the entropy regularizer reads). B x 8 heads of d_model / 8.
Case tap_attention_case(const KernelBenchSettings& s, const torch::Device& device,
                        torch::ScalarType dtype, int64_t t) {
  torch::manual_seed(0);
  const int64_t h = 8, d = s.d_model / h;
  const auto options = torch::TensorOptions().device(device);
  std::vector<torch::Tensor> qkv;
  for (int i = 0; i < 3; ++i)
    qkv.push_back(torch::randn({s.batch, h, t, d}, options).to(dtype).requires_grad_(true));
  Case c;
  const double bytes = static_cast<double>(s.batch * h * t * d * torch::elementSize(dtype));
  c.essential_bytes = 3.0 * bytes + bytes + 3.0 * bytes + bytes;  // q,k,v,out; dq,dk,dv,dout
  c.run = [qkv, d]() mutable {
    for (auto& x : qkv) x.mutable_grad() = torch::Tensor();
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    torch::Tensor out, entropy;
    if (attention::kernels::tap_attention_applies(qkv[0])) {
      auto r = attention::kernels::tap_attention(qkv[0], qkv[1], qkv[2], {}, {}, false, scale);
      out = r.out;
      entropy = r.entropy;
    } else {
      const auto scores = torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) * scale;
      const auto weights = torch::softmax(scores, -1);
      out = torch::matmul(weights, qkv[2]);
      entropy = torch::logsumexp(scores, -1) - (weights * scores).sum(-1);
    }
    (out.sum() + entropy.sum()).backward();
    return out.detach();
  };
  return c;
}

// Dropout of a (B, T, 4 d_model) feed-forward activation, forward + backward: the counter-based
// CPU kernel (attention/kernels/dropout.h) against torch::dropout. The masks differ, so the
// compared output is the kept fraction.
Case dropout_case(const KernelBenchSettings& s, const torch::Device& device,
                  torch::ScalarType dtype, int64_t t) {
  torch::manual_seed(0);
  const auto x = torch::randn({s.batch, t, 4 * s.d_model}, torch::TensorOptions().device(device))
                     .to(dtype)
                     .requires_grad_(true);
  const auto timed = [x](bool counter) {
    x.mutable_grad() = torch::Tensor();
    const auto y =
        counter ? attention::kernels::dropout(x, 0.1, true) : torch::dropout(x, 0.1, true);
    y.sum().backward();
    return y.detach().ne(0).to(torch::kFloat).mean();
  };
  Case c;
  const double bytes = static_cast<double>(x.numel() * torch::elementSize(dtype));
  c.essential_bytes = 4.0 * bytes;  // read x, write y; read dy, write dx
  c.run = [timed] { return timed(false); };
  if (!device.is_cuda()) c.kernel_run = [timed] { return timed(true); };
  return c;
}

// A whole attention module (projections included), forward + backward of its output's sum.
// mha: 8 heads; moh50 / moh75: 2 shared + 2 / 4 of 6 routed heads, skip_unselected.
Case module_case(const std::string& name, const KernelBenchSettings& s, const torch::Device& device,
                 torch::ScalarType dtype, int64_t t) {
  torch::manual_seed(0);
  attention::AttentionPtr module;
  if (name == "mha") {
    attention::MhaOptions o;
    o.d_model = s.d_model;
    o.heads = 8;
    module = std::make_shared<attention::MultiHeadAttention>(o);
  } else {
    attention::MohOptions o;
    o.d_model = s.d_model;
    o.heads = 8;
    o.shared_heads = 2;
    o.routed_topk = name == "moh50" ? 2 : 4;
    o.skip_unselected = true;
    module = std::make_shared<attention::MixtureOfHeadsAttention>(o);
  }
  module->to(device, dtype);
  const auto x = torch::randn({s.batch, t, s.d_model}, torch::TensorOptions().device(device))
                     .to(dtype)
                     .requires_grad_(true);
  Case c;
  c.essential_bytes =
      4.0 * static_cast<double>(s.batch * t * s.d_model * torch::elementSize(dtype));
  c.run = [module, x]() mutable {
    x.mutable_grad() = torch::Tensor();
    module->zero_grad();
    attention::ForwardContext ctx;
    const auto y = module->forward(attention::AttentionCall{x, {}, false}, ctx, "bench").out;
    y.sum().backward();
    return y.detach();
  };
  return c;
}

const std::map<std::string, CaseMaker>& case_makers() {
  static const std::map<std::string, CaseMaker> makers = {
      {"ema_fwd", [](auto& s, auto& d, auto t, auto l) { return ema_case(s, d, t, l, false); }},
      {"ema_fwd_bwd", [](auto& s, auto& d, auto t, auto l) { return ema_case(s, d, t, l, true); }},
      {"tap_attention", tap_attention_case},
      {"dropout", dropout_case},
      {"mha", [](auto& s, auto& d, auto t, auto l) { return module_case("mha", s, d, t, l); }},
      {"moh75", [](auto& s, auto& d, auto t, auto l) { return module_case("moh75", s, d, t, l); }},
      {"moh50", [](auto& s, auto& d, auto t, auto l) { return module_case("moh50", s, d, t, l); }},
  };
  return makers;
}

KernelBenchRow measure(const std::string& name, const KernelBenchSettings& s,
                       const torch::Device& device, const std::string& dtype_name, int64_t t,
                       double copy_gbps) {
  KernelBenchRow row;
  row.name = name;
  row.dtype = dtype_name;
  row.length = t;
  try {
    const Case c = case_makers().at(name)(s, device, dtype_named(dtype_name), t);
    torch::Tensor aten_out, kernel_out;
    {
      const attention::kernels::CudaKernelsDisabled off;
      aten_out = c.run();
      row.aten_ms = time_ms(c.run, s, device);
    }
    if (device.is_cuda() || c.kernel_run) {
      const auto& kernel = c.kernel_run ? c.kernel_run : c.run;
      kernel_out = kernel();
      row.kernel_ms = time_ms(kernel, s, device);
      row.speedup = row.aten_ms / row.kernel_ms;
      row.kernel_gbps = c.essential_bytes / (row.kernel_ms * 1e6);
      row.fraction_of_copy = row.kernel_gbps / copy_gbps;
      row.max_abs_diff =
          (kernel_out.to(torch::kFloat) - aten_out.to(torch::kFloat)).abs().max().item<double>();
    }
    row.ok = true;
  } catch (const std::exception& e) {
    row.error = e.what();
    const size_t newline = row.error.find('\n');
    if (newline != std::string::npos) row.error.resize(newline);
  }
  return row;
}

// The targets compare MoH with dense MHA at the same shapes, both with the kernels.
void add_ratios_to_mha(std::vector<KernelBenchRow>& rows) {
  for (auto& row : rows) {
    if (row.name.rfind("moh", 0) != 0 || !row.ok) continue;
    for (const auto& mha : rows)
      if (mha.name == "mha" && mha.ok && mha.dtype == row.dtype && mha.length == row.length) {
        const double mine = row.kernel_ms > 0 ? row.kernel_ms : row.aten_ms;
        const double theirs = mha.kernel_ms > 0 ? mha.kernel_ms : mha.aten_ms;
        row.speedup_over_mha = theirs / mine;
      }
  }
}

}  // namespace

const std::vector<std::string>& kernel_bench_cases() {
  static const std::vector<std::string> names = {"ema_fwd", "ema_fwd_bwd", "tap_attention",
                                                 "dropout", "mha",         "moh75",
                                                 "moh50"};
  return names;
}

KernelBenchResult run_kernel_bench(const KernelBenchSettings& s) {
  const torch::Device device(s.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw UserError("bench kernels: no CUDA device here (use --device cpu to time the ATen paths)");
  if (device.is_cuda() && !attention::kernels::cuda_kernels_built())
    throw UserError("bench kernels: this attnlab was built without CUDA kernels (CPU LibTorch)");
  for (const auto& name : s.cases)
    if (!case_makers().count(name)) throw UserError("--cases: unknown case '" + name + "'");
  for (const auto& name : s.dtypes) dtype_named(name);  // one clear error before any timing
  KernelBenchResult result;
  result.device_name = device.is_cuda() ? "cuda:" + std::to_string(device.index()) : "cpu";
  result.copy_gbps = copy_bandwidth_gbps(device, s);
  for (const auto& name : s.cases.empty() ? kernel_bench_cases() : s.cases) {
    const bool ema = name.rfind("ema", 0) == 0;
    const auto& lengths = !s.lengths.empty() ? s.lengths
                          : ema                ? kEmaLengths
                          : name == "dropout"  ? kDropoutLengths
                                               : kAttentionLengths;
    for (const auto& dtype : s.dtypes)
      for (int64_t t : lengths)
        result.rows.push_back(measure(name, s, device, dtype, t, result.copy_gbps));
  }
  add_ratios_to_mha(result.rows);
  return result;
}

}  // namespace attnlab::tools
