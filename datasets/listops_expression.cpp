// ListOps vocabulary, expression store and evaluator; see listops_expression.h.
#include "datasets/listops_expression.h"

#include <algorithm>
#include <stdexcept>

namespace attnlab::datasets {
namespace {

bool is_operator(int64_t id) { return id >= listops::kMin && id <= listops::kSumMod; }
bool is_digit(int64_t id) { return id >= listops::kDigit0 && id < listops::kDigit0 + 10; }

// LRA: min, max, int(np.median(args)), np.sum(args) % 10. `args` is non-empty.
int apply(int64_t op, std::vector<int>::iterator begin, std::vector<int>::iterator end) {
  switch (op) {
    case listops::kMin:
      return *std::min_element(begin, end);
    case listops::kMax:
      return *std::max_element(begin, end);
    case listops::kMed: {
      std::sort(begin, end);
      const auto n = end - begin;
      // np.median averages the two middle values of an even count; int() truncates, and for
      // non-negative values (a + b) / 2 in integers is that truncation exactly.
      return n % 2 == 1 ? begin[n / 2] : (begin[n / 2 - 1] + begin[n / 2]) / 2;
    }
    default: {  // kSumMod
      int sum = 0;
      for (auto it = begin; it != end; ++it) sum = (sum + *it) % 10;
      return sum;
    }
  }
}

std::string describe(const uint8_t* ids, size_t k) {
  const int64_t id = ids[k];
  const std::string name = id > 0 && id < listops::kVocabSize
                               ? "'" + listops_vocabulary()[static_cast<size_t>(id)] + "'"
                               : "id " + std::to_string(id);
  return "token " + std::to_string(k + 1) + " (" + name + ")";
}

}  // namespace

const std::vector<std::string>& listops_vocabulary() {
  static const std::vector<std::string> vocabulary = {"<pad>", "[MIN", "[MAX", "[MED", "[SM", "]",
                                                      "0",     "1",    "2",    "3",    "4",   "5",
                                                      "6",     "7",    "8",    "9"};
  return vocabulary;
}

int64_t listops_token_id(std::string_view token) {
  // Called for every token of the LRA files (hundreds of millions of characters), so no hashing.
  if (token.size() == 1) {
    if (token[0] >= '0' && token[0] <= '9') return listops::kDigit0 + (token[0] - '0');
    if (token[0] == ']') return listops::kClose;
    return -1;
  }
  if (token == "[MIN") return listops::kMin;
  if (token == "[MAX") return listops::kMax;
  if (token == "[MED") return listops::kMed;
  if (token == "[SM") return listops::kSumMod;
  return -1;
}

void ListOpsExamples::add(const uint8_t* ids, size_t n, int64_t label) {
  if (label < 0 || label >= listops::kNumClasses) {
    throw std::invalid_argument("ListOpsExamples::add: label " + std::to_string(label) +
                                " is outside 0..9");
  }
  for (size_t k = 0; k < n; ++k) {
    if (ids[k] == listops::kPad || ids[k] >= listops::kVocabSize) {
      throw std::invalid_argument("ListOpsExamples::add: " + describe(ids, k) +
                                  " is not a ListOps token");
    }
  }
  ids_.insert(ids_.end(), ids, ids + n);
  offsets_.push_back(static_cast<int64_t>(ids_.size()));
  labels_.push_back(label);
}

std::vector<std::string> ListOpsExamples::tokens(int64_t i) const {
  std::vector<std::string> out;
  const uint8_t* ids = ids_.data() + offset(i);
  for (int64_t k = 0; k < length(i); ++k) out.push_back(listops_vocabulary()[ids[k]]);
  return out;
}

std::string ListOpsExamples::text(int64_t i) const {
  std::string out;
  for (const auto& token : tokens(i)) out += (out.empty() ? "" : " ") + token;
  return out;
}

int64_t ListOpsExamples::max_length() const {
  int64_t longest = 0;
  for (int64_t i = 0; i < size(); ++i) longest = std::max(longest, length(i));
  return longest;
}

int evaluate_listops_ids(const uint8_t* ids, size_t n) {
  if (n == 0) throw std::invalid_argument("empty expression");
  // Open operators (id, position, where their arguments start in `args`) and the evaluated
  // arguments of all open operators, innermost last.
  struct Frame {
    int64_t op;
    size_t position;
    size_t first_arg;
  };
  std::vector<Frame> open;
  std::vector<int> args;
  int result = -1;
  for (size_t k = 0; k < n; ++k) {
    const int64_t id = ids[k];
    if (result >= 0) {
      throw std::invalid_argument(describe(ids, k) + " follows the end of the expression");
    }
    int value = -1;
    if (is_digit(id)) {
      value = static_cast<int>(id - listops::kDigit0);
    } else if (is_operator(id)) {
      open.push_back({id, k, args.size()});
      continue;
    } else if (id == listops::kClose) {
      if (open.empty()) throw std::invalid_argument(describe(ids, k) + " closes no operator");
      const Frame frame = open.back();
      open.pop_back();
      if (args.size() == frame.first_arg) {
        throw std::invalid_argument(describe(ids, frame.position) + " has no arguments");
      }
      const auto first = args.begin() + static_cast<std::ptrdiff_t>(frame.first_arg);
      value = apply(frame.op, first, args.end());
      args.erase(first, args.end());
    } else {
      throw std::invalid_argument(describe(ids, k) + " is not a ListOps token");
    }
    if (open.empty()) {
      result = value;
    } else {
      args.push_back(value);
    }
  }
  if (result < 0) {
    throw std::invalid_argument(describe(ids, open.back().position) + " is never closed");
  }
  return result;
}

int evaluate_listops(const std::vector<std::string>& tokens) {
  std::vector<uint8_t> ids;
  ids.reserve(tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) {
    const int64_t id = listops_token_id(tokens[k]);
    if (id < 0) {
      throw std::invalid_argument("token " + std::to_string(k + 1) + " ('" + tokens[k] +
                                  "') is not a ListOps token");
    }
    ids.push_back(static_cast<uint8_t>(id));
  }
  return evaluate_listops_ids(ids.data(), ids.size());
}

}  // namespace attnlab::datasets
