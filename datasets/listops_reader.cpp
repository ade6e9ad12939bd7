// Reader for LRA's ListOps TSV files; see listops_reader.h for the format and the errors.
#include "datasets/listops_reader.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "datasets/dataset.h"

namespace attnlab::datasets {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The label column: one digit, possibly padded with spaces.
int64_t parse_label(std::string_view text, const std::string& where) {
  const auto t = trim(text);
  if (t.size() != 1 || t[0] < '0' || t[0] > '9') {
    throw DataError(where + "label '" + std::string(t) + "' is not an integer in 0..9");
  }
  return t[0] - '0';
}

// Tokenises `source` into `ids` (parentheses checked for balance and dropped) and checks that it
// is one complete expression of at most max_length tokens.
void parse_source(std::string_view source, int64_t max_length, const std::string& where,
                  std::vector<uint8_t>& ids) {
  ids.clear();
  int64_t depth = 0;  // of "(" ")"
  int64_t word = 0;
  size_t i = 0;
  while (i < source.size()) {
    if (is_space(source[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < source.size() && !is_space(source[end])) ++end;
    const std::string_view token = source.substr(i, end - i);
    i = end;
    ++word;
    if (token == "(") {
      ++depth;
    } else if (token == ")") {
      if (--depth < 0) {
        throw DataError(where + "cannot parse the expression: word " + std::to_string(word) +
                        " (')') closes no '('");
      }
    } else {
      const int64_t id = listops_token_id(token);
      if (id < 0) {
        throw DataError(where + "word " + std::to_string(word) + " ('" + std::string(token) +
                        "') is not a ListOps token");
      }
      ids.push_back(static_cast<uint8_t>(id));
    }
  }
  if (depth != 0) {
    throw DataError(where + "cannot parse the expression: " + std::to_string(depth) +
                    " unclosed '('");
  }
  if (static_cast<int64_t>(ids.size()) > max_length) {
    throw DataError(where + "expression has " + std::to_string(ids.size()) +
                    " tokens, more than max_length " + std::to_string(max_length));
  }
  try {
    evaluate_listops_ids(ids.data(), ids.size());
  } catch (const std::invalid_argument& e) {
    throw DataError(where + "cannot parse the expression: " + e.what() +
                    " (tokens counted without parentheses)");
  }
}

}  // namespace

ListOpsExamples read_listops_tsv(const std::string& path, int64_t max_length) {
  std::ifstream in;
  if (std::filesystem::is_regular_file(path)) in.open(path, std::ios::binary);
  if (!in.is_open()) throw DataError(path + ": ListOps file not found");

  ListOpsExamples examples;
  std::vector<uint8_t> ids;
  std::string line;
  int64_t line_no = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // csv.writer ends rows with CRLF
    if (trim(line).empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (!header) {
      if (line != "Source\tTarget") {
        throw DataError(where + "expected the header 'Source<TAB>Target', got '" +
                        line.substr(0, 40) + (line.size() > 40 ? "...'" : "'"));
      }
      header = true;
      continue;
    }
    const size_t tab = line.find('\t');
    size_t columns = 1;
    for (const char c : line) columns += c == '\t';
    if (columns != 2) {
      throw DataError(where + "expected 2 tab-separated columns (Source, Target), got " +
                      std::to_string(columns));
    }
    const std::string_view row(line);
    const int64_t label = parse_label(row.substr(tab + 1), where);
    parse_source(row.substr(0, tab), max_length, where, ids);
    examples.add(ids.data(), ids.size(), label);
  }
  if (in.bad()) throw DataError(path + ": cannot read");
  if (examples.size() == 0) throw DataError(path + ": no ListOps rows");
  return examples;
}

ListOpsData read_listops_directory(const std::string& directory, int64_t max_length) {
  const std::filesystem::path dir(directory);
  ListOpsData data;
  data.train = read_listops_tsv((dir / "basic_train.tsv").string(), max_length);
  data.val = read_listops_tsv((dir / "basic_val.tsv").string(), max_length);
  data.test = read_listops_tsv((dir / "basic_test.tsv").string(), max_length);
  return data;
}

}  // namespace attnlab::datasets
