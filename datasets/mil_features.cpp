// Reader of precomputed MIL instance features; see mil_features.h for the format and the errors.
#include "datasets/mil_features.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string_view>

namespace attnlab::datasets {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> fields(std::string_view line, char delimiter) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(delimiter, start);
    out.push_back(trim(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool parse_int(std::string_view s, int64_t& value) {
  if (s.empty() || s.size() > 18) return false;
  value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

bool parse_float(std::string_view s, float& value) {
  if (s.empty()) return false;
  const std::string text(s);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v)) return false;
  value = static_cast<float>(v);
  return true;
}

}  // namespace

MilFeaturesFile read_mil_features(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": MIL features file not found");
  std::string line;
  int64_t line_no = 0;
  // The header: the first non-blank line.
  std::string header;
  while (std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) {
      header = line;
      break;
    }
  }
  if (header.empty()) throw DataError(path + ": no MIL rows");
  const std::string at_header = path + ":" + std::to_string(line_no) + ": ";
  const char delimiter = header.find('\t') != std::string::npos ? '\t' : ',';
  const auto names = fields(header, delimiter);
  if (names.size() < 2 || names[0] != "bag_id" || names[1] != "label")
    throw DataError(at_header + "expected a header starting 'bag_id,label' (then instance_label, then the "
                                "feature columns), got '" + std::string(trim(header)) + "'");
  MilFeaturesFile out;
  out.has_instance_labels = names.size() > 2 && names[2] == "instance_label";
  const size_t first_feature = out.has_instance_labels ? 3 : 2;
  if (names.size() <= first_feature) throw DataError(at_header + "the header names no feature column");
  const int64_t d = static_cast<int64_t>(names.size() - first_feature);
  std::vector<float> values;
  std::map<std::string, size_t> bag_of;  // bag_id -> index in out.bags
  int64_t rows = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    const auto f = fields(line, delimiter);
    if (f.size() != names.size())
      throw DataError(where + "expected " + std::to_string(names.size()) + " columns (as the header), got " +
                      std::to_string(f.size()));
    if (f[0].empty()) throw DataError(where + "empty bag_id");
    int64_t label = 0, instance_label = 0;
    if (!parse_int(f[1], label)) throw DataError(where + "label '" + std::string(f[1]) + "' is not an integer >= 0");
    if (out.has_instance_labels && (f[2] != "0" && f[2] != "1"))
      throw DataError(where + "instance_label '" + std::string(f[2]) + "' is not 0 or 1");
    if (out.has_instance_labels) instance_label = f[2] == "1" ? 1 : 0;
    for (size_t c = first_feature; c < f.size(); ++c) {
      float v = 0;
      if (!parse_float(f[c], v))
        throw DataError(where + "column " + std::to_string(c + 1) + " ('" + std::string(names[c]) + "'): '" +
                        std::string(f[c]) + "' is not a finite number");
      values.push_back(v);
    }
    const std::string id(f[0]);
    auto it = bag_of.find(id);
    if (it == bag_of.end()) {
      it = bag_of.emplace(id, out.bags.size()).first;
      out.bags.push_back(MilBag{{}, label, {}});
      out.bag_lines.push_back(line_no);
    }
    MilBag& bag = out.bags[it->second];
    if (bag.label != label)
      throw DataError(where + "bag '" + id + "' has label " + std::to_string(label) + " here but " +
                      std::to_string(bag.label) + " at line " + std::to_string(out.bag_lines[it->second]));
    bag.rows.push_back(rows++);
    if (out.has_instance_labels) bag.instance_labels.push_back(instance_label);
    out.max_label = std::max(out.max_label, label);
  }
  if (rows == 0) throw DataError(path + ": no MIL rows");
  out.instances = torch::tensor(values, torch::kFloat).view({rows, d});
  return out;
}

MilFeaturesDataset::MilFeaturesDataset(const MilFeaturesOptions& o) {
  std::vector<std::pair<std::string, std::string>> files{{"train", o.train}, {"val", o.val}, {"test", o.test}};
  std::vector<MilFeaturesFile> read;
  int64_t max_label = 0;
  for (const auto& [name, path] : files) {
    if (path.empty()) {
      if (name == "train") throw DataError("mil_features: the train file is required");
      continue;
    }
    read.push_back(read_mil_features(path));
    if (read.back().instances.size(1) != read.front().instances.size(1))
      throw DataError(path + ": " + std::to_string(read.back().instances.size(1)) + " features per instance, but " +
                      o.train + " has " + std::to_string(read.front().instances.size(1)));
    max_label = std::max(max_label, read.back().max_label);
    names_.push_back(name);
  }
  const int64_t classes = o.num_classes > 0 ? o.num_classes : std::max<int64_t>(2, max_label + 1);
  size_t k = 0;
  for (const auto& [name, path] : files) {
    if (path.empty()) continue;
    auto& file = read[k++];
    for (size_t b = 0; b < file.bags.size(); ++b)
      if (file.bags[b].label >= classes)
        throw DataError(path + ":" + std::to_string(file.bag_lines[b]) + ": label " +
                        std::to_string(file.bags[b].label) + " is not below num_classes " + std::to_string(classes));
    auto split = std::make_shared<const MilSplit>(file.instances, std::move(file.bags));
    spec_.max_length = std::max(spec_.max_length, split->max_bag_size());
    splits_.push_back(split);
  }
  spec_.num_classes = classes;
  spec_.feature_dim = read.front().instances.size(1);
}

std::shared_ptr<const Split> MilFeaturesDataset::split(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return splits_[i];
  std::string known;
  for (const auto& n : names_) known += " " + n;
  throw DataError("mil_features has no split '" + name + "'; it has:" + known);
}

}  // namespace attnlab::datasets
