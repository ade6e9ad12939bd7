#include "framework/calibration/logits_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <stdexcept>

#include "datasets/dataset.h"
#include "datasets/delimited_reader.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/io/npy.h"

namespace attnlab::calibration {
namespace {

// "npy" for a .npy name (or format npy); otherwise the table format datasets::table_format
// reads from the name or the format option (csv, tsv, jsonl).
std::string format_of(const std::string& path, const std::string& format) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (format == "npy" || (format == "auto" && ext == ".npy")) return "npy";
  try {
    switch (datasets::table_format(path, format)) {
      case datasets::TableFormat::kCsv: return "csv";
      case datasets::TableFormat::kTsv: return "tsv";
      case datasets::TableFormat::kJsonl: return "jsonl";
    }
  } catch (const std::invalid_argument& e) {
    throw UserError(std::string(e.what()) + ", npy");
  } catch (const datasets::DataError& e) {
    throw UserError(e.what());
  }
  throw UserError(path + ": unknown format");
}

double parse_number(const std::string& text, const std::string& where) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  std::string rest(end ? end : "");
  rest.erase(std::remove_if(rest.begin(), rest.end(), [](char c) { return c == ' ' || c == '\r'; }), rest.end());
  if (end == begin || !rest.empty()) throw UserError(where + "'" + text + "' is not a number");
  if (!std::isfinite(v)) throw UserError(where + "'" + text + "' is not a finite number");
  return v;
}

int64_t parse_label(const std::string& text, const std::string& where) {
  const double v = parse_number(text, where);
  if (v != std::floor(v)) throw UserError(where + "label '" + text + "' is not an integer");
  return static_cast<int64_t>(v);
}

// Rows of values -> probabilities, checking labels and (for probs) the simplex; `where(i)` names row i.
template <typename Where>
ScoredExamples finish(std::vector<std::vector<double>> rows, std::vector<int64_t> labels,
                      std::vector<std::string> splits, const LogitsFileOptions& options, const Where& where,
                      const std::string& path) {
  if (rows.empty()) throw UserError(path + ": no rows");
  const auto n = static_cast<int64_t>(rows.size());
  const auto k = static_cast<int64_t>(rows[0].size());
  if (k < 2) throw UserError(path + ": need at least 2 class columns, found " + std::to_string(k));
  std::vector<double> flat;
  flat.reserve(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < n; ++i) {
    const auto& row = rows[static_cast<size_t>(i)];
    const int64_t label = labels[static_cast<size_t>(i)];
    if (label < 0 || label >= k) {
      throw UserError(where(i) + "label " + std::to_string(label) + " is outside 0.." + std::to_string(k - 1) +
                      " (" + std::to_string(k) + " classes)");
    }
    if (options.values == "probs") {
      double sum = 0.0;
      for (double v : row) {
        if (v < 0.0 || v > 1.0) throw UserError(where(i) + "probability " + std::to_string(v) + " is outside [0, 1]");
        sum += v;
      }
      if (std::fabs(sum - 1.0) > 1e-3) {
        throw UserError(where(i) + "probabilities sum to " + std::to_string(sum) + ", not 1 (use --values logits?)");
      }
    }
    flat.insert(flat.end(), row.begin(), row.end());
  }
  ScoredExamples out;
  const torch::Tensor values = torch::tensor(flat, torch::kFloat64).view({n, k});
  out.probs = options.values == "probs" ? values / values.sum(1, true) : torch::softmax(values / options.temperature, 1);
  out.labels = torch::tensor(labels, torch::kLong);
  out.splits = std::move(splits);
  return out;
}

ScoredExamples read_delimited(const std::string& path, char delimiter, const LogitsFileOptions& options) {
  const auto records = datasets::parse_delimited(io::read_file(path), delimiter, delimiter == ',', path);
  if (records.empty()) throw UserError(path + ": empty file (a header row and one row per example expected)");
  const auto& header = records[0].fields;
  int64_t label_col = -1, split_col = -1;
  std::vector<size_t> class_cols;
  std::vector<std::string> class_names;
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == options.label_column) {
      label_col = static_cast<int64_t>(c);
    } else if (header[c] == options.split_column) {
      split_col = static_cast<int64_t>(c);
    } else {
      class_cols.push_back(c);
      class_names.push_back(header[c]);
    }
  }
  if (label_col < 0) {
    throw UserError(path + ":" + std::to_string(records[0].line) + ": the header has no '" + options.label_column +
                    "' column");
  }
  std::vector<std::vector<double>> rows;
  std::vector<int64_t> labels;
  std::vector<std::string> splits;
  std::vector<int64_t> lines;
  for (size_t r = 1; r < records.size(); ++r) {
    const auto& rec = records[r];
    const std::string at = path + ":" + std::to_string(rec.line) + ": ";
    if (!rec.problem.empty()) throw UserError(at + rec.problem);
    if (rec.fields.size() == 1 && rec.fields[0].empty()) continue;  // a blank line
    if (rec.fields.size() != header.size()) {
      throw UserError(at + "expected " + std::to_string(header.size()) + " columns (as the header), got " +
                      std::to_string(rec.fields.size()));
    }
    std::vector<double> row;
    for (size_t j = 0; j < class_cols.size(); ++j) {
      row.push_back(parse_number(rec.fields[class_cols[j]], at + "column '" + class_names[j] + "': "));
    }
    rows.push_back(std::move(row));
    labels.push_back(parse_label(rec.fields[static_cast<size_t>(label_col)], at + "column '" + options.label_column + "': "));
    if (split_col >= 0) splits.push_back(rec.fields[static_cast<size_t>(split_col)]);
    lines.push_back(rec.line);
  }
  auto where = [&](int64_t i) { return path + ":" + std::to_string(lines[static_cast<size_t>(i)]) + ": "; };
  ScoredExamples out = finish(std::move(rows), std::move(labels), std::move(splits), options, where, path);
  out.class_names = std::move(class_names);
  return out;
}

ScoredExamples read_jsonl(const std::string& path, const LogitsFileOptions& options) {
  using nlohmann::json;
  const std::string content = io::read_file(path);
  const std::string key = options.values == "probs" ? "probs" : "logits";
  std::vector<std::vector<double>> rows;
  std::vector<int64_t> labels;
  std::vector<std::string> splits;
  std::vector<int64_t> lines;
  size_t start = 0;
  for (int64_t line = 1; start < content.size(); ++line) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    const std::string text = content.substr(start, end - start);
    start = end + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string at = path + ":" + std::to_string(line) + ": ";
    json j;
    try {
      j = json::parse(text);
    } catch (const json::parse_error& e) {
      throw UserError(at + "not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw UserError(at + "not a JSON object");
    if (!j.contains(key) || !j[key].is_array()) throw UserError(at + "no '" + key + "' array");
    if (!j.contains(options.label_column)) throw UserError(at + "no '" + options.label_column + "' key");
    std::vector<double> row;
    for (const auto& v : j[key]) {
      // JSON has no NaN/Infinity literals; nlohmann reads them as errors above or as null here.
      if (!v.is_number()) throw UserError(at + "'" + key + "' holds " + v.dump() + ", not a finite number");
      row.push_back(v.get<double>());
      if (!std::isfinite(row.back())) throw UserError(at + "'" + key + "' holds a non-finite number");
    }
    if (!rows.empty() && row.size() != rows[0].size()) {
      throw UserError(at + std::to_string(row.size()) + " " + key + " values, but the first row has " +
                      std::to_string(rows[0].size()));
    }
    const json& l = j[options.label_column];
    if (!l.is_number_integer()) throw UserError(at + "'" + options.label_column + "' is " + l.dump() + ", not an integer");
    rows.push_back(std::move(row));
    labels.push_back(l.get<int64_t>());
    if (j.contains(options.split_column)) {
      if (!j[options.split_column].is_string()) throw UserError(at + "'" + options.split_column + "' is not a string");
      splits.push_back(j[options.split_column].get<std::string>());
    } else if (!splits.empty()) {
      throw UserError(at + "no '" + options.split_column + "' key, but earlier rows have one");
    }
    if (!splits.empty() && splits.size() != rows.size()) {
      throw UserError(at + "has a '" + options.split_column + "' key, but earlier rows do not");
    }
    lines.push_back(line);
  }
  auto where = [&](int64_t i) { return path + ":" + std::to_string(lines[static_cast<size_t>(i)]) + ": "; };
  return finish(std::move(rows), std::move(labels), std::move(splits), options, where, path);
}

ScoredExamples read_npy_pair(const std::string& path, const LogitsFileOptions& options) {
  if (options.labels_path.empty()) throw UserError(path + ": a .npy of scores needs its labels in a second .npy file");
  const torch::Tensor values = io::read_npy(path);
  const torch::Tensor label_tensor = io::read_npy(options.labels_path);
  if (values.dim() != 2) throw UserError(path + ": expected an (N, K) array, got " + std::to_string(values.dim()) + " dimensions");
  if (label_tensor.dim() != 1 || label_tensor.size(0) != values.size(0)) {
    throw UserError(options.labels_path + ": expected " + std::to_string(values.size(0)) +
                    " labels (one per row of " + path + ")");
  }
  const torch::Tensor finite = torch::isfinite(values);
  if (!finite.all().item<bool>()) {
    const torch::Tensor bad = finite.logical_not().nonzero()[0];
    throw UserError(path + ": row " + std::to_string(bad[0].item<int64_t>()) + ", column " +
                    std::to_string(bad[1].item<int64_t>()) + ": non-finite value");
  }
  if (label_tensor.scalar_type() != torch::kInt64) {
    // read_npy gives int64 for integer arrays; float labels are a mistake worth naming.
    throw UserError(options.labels_path + ": labels must be an integer array");
  }
  const auto n = values.size(0);
  std::vector<std::vector<double>> rows(static_cast<size_t>(n));
  const torch::Tensor v = values.contiguous();
  for (int64_t i = 0; i < n; ++i) {
    rows[static_cast<size_t>(i)].assign(v[i].data_ptr<double>(), v[i].data_ptr<double>() + v.size(1));
  }
  const torch::Tensor l = label_tensor.contiguous();
  std::vector<int64_t> labels(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + n);
  auto where = [&](int64_t i) { return options.labels_path + ": row " + std::to_string(i) + ": "; };
  return finish(std::move(rows), std::move(labels), {}, options, where, path);
}

ScoredExamples rows_of(const ScoredExamples& all, const std::vector<int64_t>& rows) {
  ScoredExamples out;
  const torch::Tensor index = torch::tensor(rows, torch::kLong);
  out.probs = all.probs.index_select(0, index);
  out.labels = all.labels.index_select(0, index);
  for (int64_t r : rows)
    if (!all.splits.empty()) out.splits.push_back(all.splits[static_cast<size_t>(r)]);
  out.class_names = all.class_names;
  return out;
}

}  // namespace

ScoredExamples read_scored_examples(const std::string& path, const LogitsFileOptions& options) {
  if (options.values != "logits" && options.values != "probs") {
    throw UserError("values '" + options.values + "' is not one of logits, probs");
  }
  if (!(options.temperature > 0.0) || !std::isfinite(options.temperature)) {
    throw UserError("temperature must be a positive number");
  }
  const std::string format = format_of(path, options.format);
  if (format == "csv") return read_delimited(path, ',', options);
  if (format == "tsv") return read_delimited(path, '\t', options);
  if (format == "jsonl") return read_jsonl(path, options);
  return read_npy_pair(path, options);
}

ScoredExamples select_split(const ScoredExamples& all, const std::string& name, const std::string& path) {
  if (all.splits.empty()) throw UserError(path + ": the file has no split column to select '" + name + "' from");
  std::vector<int64_t> rows;
  std::set<std::string> present;
  for (size_t i = 0; i < all.splits.size(); ++i) {
    present.insert(all.splits[i]);
    if (all.splits[i] == name) rows.push_back(static_cast<int64_t>(i));
  }
  if (rows.empty()) {
    std::string values;
    for (const auto& p : present) values += (values.empty() ? "" : ", ") + p;
    throw UserError(path + ": split '" + name + "' is empty (the split column holds: " + values + ")");
  }
  return rows_of(all, rows);
}

std::pair<ScoredExamples, ScoredExamples> random_split(const ScoredExamples& all, double calibration_fraction,
                                                       uint64_t seed) {
  const int64_t n = all.labels.size(0);
  const auto n_cal = static_cast<int64_t>(std::llround(calibration_fraction * static_cast<double>(n)));
  if (!(calibration_fraction > 0.0 && calibration_fraction < 1.0) || n_cal < 1 || n_cal >= n) {
    throw UserError("calibration fraction " + std::to_string(calibration_fraction) + " leaves an empty split of " +
                    std::to_string(n) + " rows");
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 engine(seed);
  std::shuffle(order.begin(), order.end(), engine);
  std::vector<int64_t> cal(order.begin(), order.begin() + n_cal), test(order.begin() + n_cal, order.end());
  std::sort(cal.begin(), cal.end());
  std::sort(test.begin(), test.end());
  return {rows_of(all, cal), rows_of(all, test)};
}

}  // namespace attnlab::calibration
