// MIL bag split; see mil_split.h.
#include "datasets/mil_split.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "datasets/in_memory_split.h"

namespace attnlab::datasets {

MilSplit::MilSplit(torch::Tensor instances, std::vector<MilBag> bags)
    : instances_(std::move(instances)), bags_(std::move(bags)) {
  TORCH_CHECK(instances_.dim() == 2 && instances_.scalar_type() == torch::kFloat,
              "MilSplit: instances must be (M, F) float32, got ", instances_.sizes());
  has_instance_labels_ = !bags_.empty() && !bags_.front().instance_labels.empty();
  const int64_t m = instances_.size(0);
  for (const auto& bag : bags_) {
    TORCH_CHECK(!bag.rows.empty(), "MilSplit: empty bag");
    TORCH_CHECK(has_instance_labels_ ? bag.instance_labels.size() == bag.rows.size() : bag.instance_labels.empty(),
                "MilSplit: instance labels must be given for every instance of every bag, or for none");
    for (const int64_t r : bag.rows) TORCH_CHECK(r >= 0 && r < m, "MilSplit: row ", r, " outside 0..", m - 1);
  }
}

int64_t MilSplit::max_bag_size() const {
  size_t n = 0;
  for (const auto& bag : bags_) n = std::max(n, bag.rows.size());
  return static_cast<int64_t>(n);
}

Batch MilSplit::batch(const std::vector<int64_t>& indices) const {
  size_t longest = 0, shortest = SIZE_MAX;
  for (const int64_t i : indices) {
    if (i < 0 || i >= size())
      throw std::out_of_range("MilSplit::batch: bag " + std::to_string(i) + " is outside 0.." + std::to_string(size() - 1));
    longest = std::max(longest, bags_[i].rows.size());
    shortest = std::min(shortest, bags_[i].rows.size());
  }
  const int64_t b = static_cast<int64_t>(indices.size()), n = static_cast<int64_t>(longest);
  std::vector<int64_t> rows(b * n, 0);  // padding gathers row 0, zeroed below
  auto labels = torch::empty({b}, torch::kLong);
  auto mask = torch::ones({b, n}, torch::kBool);
  auto rationale = torch::zeros({b, n}, torch::kLong);
  auto lab = labels.accessor<int64_t, 1>();
  auto pad = mask.accessor<bool, 2>();
  auto rat = rationale.accessor<int64_t, 2>();
  for (int64_t k = 0; k < b; ++k) {
    const auto& bag = bags_[indices[k]];
    lab[k] = bag.label;
    for (size_t j = 0; j < bag.rows.size(); ++j) {
      rows[k * n + j] = bag.rows[j];
      pad[k][j] = false;
      if (has_instance_labels_) rat[k][j] = bag.instance_labels[j];
    }
  }
  Batch out;
  out.inputs = instances_.index_select(0, index_tensor(rows))
                   .view({b, n, instances_.size(1)})  // (B, N, F)
                   .masked_fill(mask.unsqueeze(-1), 0.0);
  out.labels = labels;
  if (shortest != longest) out.padding_mask = mask;
  if (has_instance_labels_) out.rationale = rationale;
  return out;
}

}  // namespace attnlab::datasets
