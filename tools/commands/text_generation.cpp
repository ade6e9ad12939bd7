// Greedy and sampled decoding; see text_generation.h.
#include "tools/commands/text_generation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

namespace attnlab::tools {

int64_t pick_next_token(const torch::Tensor& logits, int64_t pad_id, const GenerationOptions& options,
                        at::Generator& generator) {
  TORCH_CHECK(logits.dim() == 1 && logits.size(0) > 1, "generate: logits must be (V) with V > 1, got ",
              logits.sizes());
  const double neg_inf = -std::numeric_limits<double>::infinity();
  auto z = logits.to(torch::kCPU, torch::kDouble).clone();  // (V)
  if (pad_id >= 0 && pad_id < z.size(0)) z[pad_id].fill_(neg_inf);
  if (options.greedy) return z.argmax().item<int64_t>();

  TORCH_CHECK(options.temperature > 0, "generate: temperature must be positive");
  z = z / options.temperature;
  const int64_t usable = z.size(0) - 1;  // every id but pad
  if (options.top_k > 0 && options.top_k < usable) {
    // Keep the k largest (ties at the k-th value are kept too).
    const auto kth = std::get<0>(z.topk(options.top_k)).min();
    z = z.masked_fill(z < kth, neg_inf);
  }
  const auto probs = torch::softmax(z, 0);  // (V), pad has probability 0
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>();
}

std::vector<int64_t> generate_tokens(models::Model& model, const std::vector<int64_t>& prompt, int64_t context,
                                     int64_t pad_id, const GenerationOptions& options) {
  TORCH_CHECK(!prompt.empty(), "generate: the prompt has no tokens");
  TORCH_CHECK(context > 0, "generate: context must be positive");
  torch::NoGradGuard no_grad;
  at::Generator generator = at::detail::createCPUGenerator(options.seed);
  const auto device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters().front().device();

  std::vector<int64_t> ids = prompt, added;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    const int64_t n = static_cast<int64_t>(ids.size());
    const int64_t start = std::max<int64_t>(0, n - context);
    const auto window = torch::tensor(std::vector<int64_t>(ids.begin() + start, ids.end()), torch::kLong)
                            .unsqueeze(0)
                            .to(device);  // (1, L)
    attention::ForwardContext ctx;
    const auto logits = model.forward(models::ModelInput{window, torch::Tensor()}, ctx).logits;  // (1, L, V)
    const int64_t next = pick_next_token(logits[0][window.size(1) - 1], pad_id, options, generator);
    ids.push_back(next);
    added.push_back(next);
  }
  return added;
}

}  // namespace attnlab::tools
