// Averages the statistics attention modules report through the ForwardContext (e.g. MoH's
// "moh_active_fraction" and "moh_head_usage") over the forwards of a training step or an
// evaluation, for the logs. Sums stay on the device until read, once.
//
// Reading gives, per statistic name:
//   - scalars: the mean over sites, "<name>" (e.g. the fraction of heads used, averaged over layers),
//     and per site "<site>/<name>";
//   - vectors: per site "<site>/<name>" as a list (e.g. layer0's per-head usage).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attention/context.h"

namespace attnlab::train {

class AttentionStatistics {
 public:
  // Adds every statistic of one forward.
  void add(const attention::ForwardContext& ctx);
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }

  struct Read {
    std::map<std::string, double> scalars;               // "<name>" and "<site>/<name>"
    std::map<std::string, std::vector<double>> vectors;  // "<site>/<name>"
    // Everything under "attention/...", for a metrics.jsonl record.
    nlohmann::json to_json() const;
  };
  // Means over the forwards added (one host transfer).
  Read read() const;

 private:
  struct Entry {
    std::string site, name;
    torch::Tensor sum;  // double, on the module's device
    int64_t count = 0;
  };
  std::vector<Entry> entries_;  // in first-reported order
};

}  // namespace attnlab::train
