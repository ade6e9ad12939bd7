// ListOps expressions (Nangia & Bowman 2018, as used by the Long Range Arena): prefix lists of
// digits 0-9 under the operators MIN, MAX, MED (median) and SM (sum modulo 10), written as LRA's
// listops.py writes them, e.g. `[MAX 2 9 [MIN 4 7 ] 0 ]` (value 9). A bare digit is an expression
// too (LRA's generator can return one at the root). The value of every expression is a digit, so
// the task is 10-way classification.
//
// This file holds the fixed vocabulary, a compact store of many tokenised expressions, and the
// evaluator the generator labels with. MED is LRA's `int(np.median(args))`: the middle value for an
// odd count and, for an even count, the mean of the two middle values truncated to an integer
// (floor, as the values are non-negative), e.g. MED(1, 2) = 1 and MED(3, 8, 1, 6) = 4.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnlab::datasets {

// Token ids. LRA's input pipeline drops the "(" ")" of the released files and keeps operators,
// "]" and digits; the ids below are that vocabulary in LRA's operator order [MIN, MAX, MED, SM].
namespace listops {
constexpr int64_t kPad = 0;
constexpr int64_t kMin = 1;
constexpr int64_t kMax = 2;
constexpr int64_t kMed = 3;
constexpr int64_t kSumMod = 4;
constexpr int64_t kClose = 5;   // "]"
constexpr int64_t kDigit0 = 6;  // "0".."9" are 6..15
constexpr int64_t kVocabSize = 16;
constexpr int64_t kNumClasses = 10;
}  // namespace listops

// The token of each id, index = id: "<pad>", "[MIN", "[MAX", "[MED", "[SM", "]", "0".."9".
const std::vector<std::string>& listops_vocabulary();

// The id of a token, or -1 for anything outside the vocabulary (including "<pad>", "(" and ")").
int64_t listops_token_id(std::string_view token);

// Many expressions stored back to back as uint8 token ids: the full LRA train file (96k
// expressions of up to 2k tokens) then takes ~100 MB instead of gigabytes of strings or int64s.
class ListOpsExamples {
 public:
  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  // Appends an expression given as `n` ids (each 1..kVocabSize-1) with its label 0..9.
  void add(const uint8_t* ids, size_t n, int64_t label);

  // Expression i: its ids are ids_data()[offset(i), offset(i) + length(i)).
  int64_t offset(int64_t i) const { return offsets_[static_cast<size_t>(i)]; }
  int64_t length(int64_t i) const { return offsets_[static_cast<size_t>(i) + 1] - offset(i); }
  int64_t label(int64_t i) const { return labels_[static_cast<size_t>(i)]; }
  const uint8_t* ids_data() const { return ids_.data(); }
  const std::vector<int64_t>& labels() const { return labels_; }
  // Expression i as tokens, e.g. {"[MAX", "2", "9", "]"}.
  std::vector<std::string> tokens(int64_t i) const;
  // Expression i as one space-separated string, e.g. "[MAX 2 9 ]".
  std::string text(int64_t i) const;
  int64_t max_length() const;  // longest expression; 0 when empty

 private:
  std::vector<uint8_t> ids_;
  std::vector<int64_t> offsets_{0};  // size() + 1 entries
  std::vector<int64_t> labels_;
};

// The value 0..9 of an expression given as ids. Throws std::invalid_argument naming the first
// offending token (1-based) for anything that is not one complete expression: an unknown id, a
// "]" without an operator, an operator without arguments, an unclosed operator, or tokens after
// the end. Iterative, so nesting depth is bounded by memory, not the call stack.
int evaluate_listops_ids(const uint8_t* ids, size_t n);

// The same for tokens ("[MAX", "]", "7", ...); an unknown token is std::invalid_argument too.
int evaluate_listops(const std::vector<std::string>& tokens);

}  // namespace attnlab::datasets
