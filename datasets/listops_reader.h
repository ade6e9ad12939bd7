// A reader for the ListOps files released with the Long Range Arena (lra_release/listops-1000):
// `basic_train.tsv`, `basic_val.tsv`, `basic_test.tsv`, written by Python's csv module with a
// header row "Source\tTarget" and one row per expression. Source is LRA's binary-tree rendering,
// e.g. `( ( ( [MAX 2 ) 9 ) ] )` for `[MAX 2 9 ]`; the parentheses carry no information (LRA's own
// input pipeline drops them), so they are checked for balance and dropped. The plain form without
// parentheses reads too. Target is the value 0..9.
//
// Errors are DataError "PATH:LINE: ..." (or "PATH: ..." for the file as a whole): a missing file,
// a wrong header, a row without exactly two tab-separated columns, an unknown token, an
// expression that does not parse, one longer than max_length tokens, a label outside 0..9. A label
// that disagrees with the expression's value is loaded as it is: the released data is the
// benchmark, right or wrong.
#pragma once

#include <cstdint>
#include <string>

#include "datasets/listops_expression.h"
#include "datasets/listops_generator.h"

namespace attnlab::datasets {

// One TSV file; max_length bounds the tokens of an expression (parentheses not counted).
// Blank lines and CRLF endings are tolerated; a file with no rows is an error.
ListOpsExamples read_listops_tsv(const std::string& path, int64_t max_length);

// DIRECTORY/basic_train.tsv, basic_val.tsv and basic_test.tsv as train, val and test.
ListOpsData read_listops_directory(const std::string& directory, int64_t max_length);

}  // namespace attnlab::datasets
