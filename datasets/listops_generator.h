// A deterministic ListOps generator following LRA's `lra_benchmarks/data/listops.py`
// (`generate_tree`): a node at depth d < max_depth (the root has depth 1) is an operator with
// probability 1/4, otherwise a uniform digit; a node at depth max_depth is always a digit. An
// operator draws its argument count uniformly from 2..max_args, generates the arguments, then
// draws the operator uniformly from [MIN, MAX, MED, SM]. Expressions outside
// [min_length, max_length] tokens are rejected, as are repeats (LRA collects a set), so train, val
// and test never share an expression. Labels come from evaluate_listops_ids.
//
// Randomness is std::mt19937_64 with datasets::uniform_below (shuffle.h), so a seed gives the same
// data on every platform; the split s in (train, val, test) = (0, 1, 2) draws from
// mt19937_64(derive_seed(seed, s)). A tree that grows past max_length is abandoned at once instead
// of being finished and rejected: the accepted trees have the same distribution, and generation
// stays fast even though an unbounded LRA tree can reach 10^9 tokens.
#pragma once

#include <cstdint>

#include "datasets/listops_expression.h"

namespace attnlab::datasets {

struct ListOpsOptions {
  int64_t train_size = 2000, val_size = 200, test_size = 200;
  int64_t max_depth = 10;  // tree levels, root = 1: brackets nest at most max_depth - 1 deep
  int64_t max_args = 10;   // >= 2
  // Inclusive bounds on tokens per expression. LRA's benchmark keeps 500 < length < 2000, i.e.
  // min_length = 501, max_length = 1999 here.
  int64_t min_length = 1, max_length = 500;
  uint64_t seed = 0;
};

struct ListOpsData {
  ListOpsExamples train, val, test;
};

// Throws DataError for invalid options, or when the length range admits too few distinct
// expressions (a million draws in a row that are out of range or repeats).
ListOpsData generate_listops(const ListOpsOptions& options);

}  // namespace attnlab::datasets
