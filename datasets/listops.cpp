// The ListOps dataset and its padded split; see listops.h.
#include "datasets/listops.h"

#include <algorithm>
#include <stdexcept>

#include "datasets/listops_reader.h"

namespace attnlab::datasets {

Batch ListOpsSplit::batch(const std::vector<int64_t>& indices) const {
  int64_t longest = 0;
  int64_t shortest = -1;
  for (const int64_t i : indices) {
    if (i < 0 || i >= size()) {
      throw std::out_of_range("ListOpsSplit::batch: index " + std::to_string(i) +
                              " is outside 0.." + std::to_string(size() - 1));
    }
    longest = std::max(longest, examples_.length(i));
    shortest = shortest < 0 ? examples_.length(i) : std::min(shortest, examples_.length(i));
  }
  const auto b = static_cast<int64_t>(indices.size());
  Batch out;
  out.inputs = torch::full({b, longest}, listops::kPad, torch::kLong);  // (B, T)
  out.labels = torch::empty({b}, torch::kLong);                         // (B)
  auto* inputs = out.inputs.data_ptr<int64_t>();
  auto* labels = out.labels.data_ptr<int64_t>();
  for (int64_t row = 0; row < b; ++row) {
    const int64_t i = indices[static_cast<size_t>(row)];
    const uint8_t* ids = examples_.ids_data() + examples_.offset(i);
    std::copy(ids, ids + examples_.length(i), inputs + row * longest);
    labels[row] = examples_.label(i);
  }
  // dataset.h: the mask is undefined when nothing in the batch is padded.
  if (shortest < longest)
    out.padding_mask = out.inputs.eq(listops::kPad);  // (B, T), ids are never pad
  return out;
}

ListOpsDataset::ListOpsDataset(const ListOpsDatasetOptions& options) : options_(options) {
  if (options.max_length < 1) {
    throw DataError("listops: max_length must be >= 1 (got " + std::to_string(options.max_length) +
                    ")");
  }
  ListOpsData data;
  if (options.path.empty()) {
    if (options.generator.max_length > options.max_length) {
      throw DataError("listops: generator.max_length (" +
                      std::to_string(options.generator.max_length) + ") exceeds max_length (" +
                      std::to_string(options.max_length) + ")");
    }
    data = generate_listops(options.generator);
  } else {
    data = read_listops_directory(options.path, options.max_length);
  }
  // Models size position tables by the longest sequence there is, not by the allowed maximum.
  const int64_t longest = std::max({data.train.max_length(), data.val.max_length(), data.test.max_length()});
  train_ = std::make_shared<ListOpsSplit>(std::move(data.train));
  val_ = std::make_shared<ListOpsSplit>(std::move(data.val));
  test_ = std::make_shared<ListOpsSplit>(std::move(data.test));

  spec_.num_classes = listops::kNumClasses;
  spec_.vocab_size = listops::kVocabSize;
  spec_.feature_dim = 0;
  spec_.max_length = std::max<int64_t>(1, longest);
  spec_.pad_id = listops::kPad;
}

std::shared_ptr<const Split> ListOpsDataset::split(const std::string& name) const {
  if (name == "train") return train_;
  if (name == "val") return val_;
  if (name == "test") return test_;
  throw DataError("listops: no split '" + name + "' (valid: train, val, test)");
}

TokenView ListOpsDataset::token_view(const Batch& batch, int64_t index) const {
  TokenView view;
  const auto& vocabulary = listops_vocabulary();
  for (int64_t id : real_token_ids(batch, index))
    view.labels.push_back(id >= 0 && id < static_cast<int64_t>(vocabulary.size()) ? vocabulary[id] : "?");
  return view;
}

}  // namespace attnlab::datasets
