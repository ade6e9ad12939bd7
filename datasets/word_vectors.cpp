// Pretrained word vectors from a text file; see word_vectors.h.
#include "datasets/word_vectors.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string_view>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/shuffle.h"

namespace attnlab::datasets {
namespace {

constexpr double kMissingStd = 0.1;
constexpr double kPi = 3.14159265358979323846;

// Whitespace-separated fields of a line (fastText ends lines with a space).
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parse_int(std::string_view s, int64_t& v) {
  if (s.empty() || s.size() > 18) return false;
  v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return true;
}

// N(0, 1) by Box-Muller over 53-bit uniforms: exact and portable, unlike std::normal_distribution.
double standard_normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) / 9007199254740993.0;  // (0, 1]
  const double u2 = static_cast<double>(rng() >> 11) / 9007199254740992.0;          // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

}  // namespace

WordVectors read_word_vectors(const std::string& path, const Vocabulary& vocab, uint64_t seed) {
  std::ifstream in;
  if (std::filesystem::is_regular_file(path)) in.open(path, std::ios::binary);
  if (!in.is_open()) throw DataError(path + ": embeddings file not found");

  WordVectors out;
  const int64_t V = vocab.size();
  std::vector<std::vector<float>> rows(static_cast<size_t>(V));
  std::string line;
  int64_t line_no = 0;
  int64_t dim = 0;
  std::string dim_from;
  int64_t vectors = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const auto f = fields_of(line);
    if (f.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    int64_t count = 0, header_dim = 0;
    if (line_no == 1 && f.size() == 2 && parse_int(f[0], count) && parse_int(f[1], header_dim)) {
      if (header_dim < 1) throw DataError(where + "the header says vectors of " + std::to_string(header_dim) + " numbers");
      dim = header_dim;
      dim_from = "the header says " + std::to_string(dim);
      continue;
    }
    const int64_t n = static_cast<int64_t>(f.size()) - 1;
    if (dim == 0) {
      if (n < 1) throw DataError(where + "expected a word followed by its numbers, got one field");
      dim = n;
      dim_from = "the first vector has " + std::to_string(dim);
    }
    if (n != dim) {
      throw DataError(where + "expected " + std::to_string(dim) + " numbers after the word (" + dim_from + "), got " +
                      std::to_string(n));
    }
    ++vectors;
    const int64_t id = vocab.find(std::string(f[0]));
    if (id <= Vocabulary::kUnk || !rows[static_cast<size_t>(id)].empty()) continue;  // not ours, or a repeat
    auto& row = rows[static_cast<size_t>(id)];
    row.resize(static_cast<size_t>(dim));
    for (int64_t k = 0; k < dim; ++k) {
      const std::string value(f[static_cast<size_t>(k + 1)]);
      char* end = nullptr;
      const float x = std::strtof(value.c_str(), &end);
      if (end != value.c_str() + value.size() || !std::isfinite(x)) {
        throw DataError(where + "value " + std::to_string(k + 1) + " ('" + value + "') is not a number");
      }
      row[static_cast<size_t>(k)] = x;
    }
    ++out.found;
  }
  if (in.bad()) throw DataError(path + ": cannot read");
  if (vectors == 0) throw DataError(path + ": no vectors");

  out.dim = dim;
  out.words = V - 2;
  out.matrix = torch::zeros({V, dim}, torch::kFloat);  // (V, D)
  auto* m = out.matrix.data_ptr<float>();
  std::mt19937_64 rng(derive_seed(seed, 0x766563));  // a stream of its own ("vec")
  for (int64_t id = 0; id < V; ++id) {
    const auto& row = rows[static_cast<size_t>(id)];
    float* dst = m + id * dim;
    if (id == Vocabulary::kPad) continue;
    if (!row.empty()) {
      std::copy(row.begin(), row.end(), dst);
    } else {
      for (int64_t k = 0; k < dim; ++k) dst[k] = static_cast<float>(kMissingStd * standard_normal(rng));
    }
  }
  return out;
}

}  // namespace attnlab::datasets
