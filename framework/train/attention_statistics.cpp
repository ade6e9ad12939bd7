// Averaging of attention statistics over forwards.
#include "framework/train/attention_statistics.h"

#include <algorithm>

namespace attnlab::train {

void AttentionStatistics::add(const attention::ForwardContext& ctx) {
  for (const auto& s : ctx.statistics()) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.site == s.site && e.name == s.name; });
    const auto v = s.value.to(torch::kDouble);
    if (it == entries_.end()) {
      entries_.push_back({s.site, s.name, v, 1});
    } else {
      TORCH_CHECK(it->sum.sizes() == v.sizes(), "statistic '", s.name, "' of site '", s.site,
                  "' changed shape from ", it->sum.sizes(), " to ", v.sizes());
      it->sum = it->sum + v;
      ++it->count;
    }
  }
}

AttentionStatistics::Read AttentionStatistics::read() const {
  Read out;
  if (entries_.empty()) return out;
  std::vector<torch::Tensor> flat;
  for (const auto& e : entries_) flat.push_back((e.sum / static_cast<double>(e.count)).reshape({-1}).to(torch::kCPU));
  const auto host = torch::cat(flat).contiguous();
  const double* v = host.data_ptr<double>();

  std::map<std::string, std::pair<double, int64_t>> over_sites;  // name -> (sum of site means, sites)
  std::vector<std::string> order;
  for (const auto& e : entries_) {
    const std::string key = e.site + "/" + e.name;
    if (e.sum.dim() == 0) {
      out.scalars[key] = *v;
      auto& acc = over_sites[e.name];
      acc.first += *v;
      ++acc.second;
      ++v;
    } else {
      out.vectors[key].assign(v, v + e.sum.numel());
      v += e.sum.numel();
    }
  }
  for (const auto& [name, acc] : over_sites) out.scalars[name] = acc.first / static_cast<double>(acc.second);
  return out;
}

nlohmann::json AttentionStatistics::Read::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : scalars) j["attention/" + k] = v;
  for (const auto& [k, v] : vectors) j["attention/" + k] = v;
  return j;
}

}  // namespace attnlab::train
