// The LRA ListOps TSV reader: the released form (binary-tree parentheses, CRLF rows, header) and
// the plain form load to the same token ids; every malformed row is named "<path>:<line>".
#include "datasets/listops_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "tests/support/temp_dir.h"

namespace attnlab::datasets {
namespace {

namespace fs = std::filesystem;

using attnlab::testing::TempDir;

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Rows written as Python's csv.writer does: header, CRLF line ends.
void write_tsv(const std::string& path, const std::vector<std::string>& rows) {
  std::string text = "Source\tTarget\r\n";
  for (const auto& row : rows) text += row + "\r\n";
  write_file(path, text);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// LRA's to_string of a plain expression: an operator with arguments a1..an is the left-nested
// pair tree ((((op a1) a2) ...) an) ]), each pair written "( L R )"; a digit is itself.
std::string lra_form(const std::vector<std::string>& tokens, size_t& pos) {
  const std::string head = tokens[pos++];
  if (head[0] != '[') return head;
  std::string tree = head;
  bool first = true;
  while (tokens[pos] != "]") {
    const std::string arg = lra_form(tokens, pos);
    tree = first ? "( " + head + " " + arg + " )" : "( " + tree + " " + arg + " )";
    first = false;
  }
  ++pos;
  return "( " + tree + " ] )";
}

std::string lra_form(const std::string& plain) {
  size_t pos = 0;
  return lra_form(split_words(plain), pos);
}

template <typename F>
void expect_data_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    for (const auto& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "'" << part << "' not in: " << e.what();
    }
  }
}

const std::vector<std::string> kPlain = {"[MAX 2 9 [MIN 4 7 ] 0 ]", "7",
                                         "[SM [MED 1 2 ] 9 [MAX 3 8 ] ]", "[MED 3 8 1 6 ]"};
const std::vector<int64_t> kValues = {9, 7, 8, 4};

TEST(ListOpsReader, LraFormMatchesTheDocumentedExample) {
  EXPECT_EQ(lra_form("[MAX 2 9 ]"), "( ( ( [MAX 2 ) 9 ) ] )");
  EXPECT_EQ(lra_form("5"), "5");
}

TEST(ListOpsReader, ReleasedAndPlainFormsLoadAlike) {
  TempDir dir;
  std::vector<std::string> lra_rows, plain_rows;
  for (size_t i = 0; i < kPlain.size(); ++i) {
    lra_rows.push_back(lra_form(kPlain[i]) + "\t" + std::to_string(kValues[i]));
    plain_rows.push_back(kPlain[i] + "\t" + std::to_string(kValues[i]));
  }
  write_tsv(dir.file("lra.tsv"), lra_rows);
  write_tsv(dir.file("plain.tsv"), plain_rows);
  const auto lra = read_listops_tsv(dir.file("lra.tsv"), 2000);
  const auto plain = read_listops_tsv(dir.file("plain.tsv"), 2000);
  ASSERT_EQ(lra.size(), 4);
  ASSERT_EQ(plain.size(), 4);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lra.text(i), kPlain[i]);
    EXPECT_EQ(plain.text(i), kPlain[i]);
    EXPECT_EQ(lra.label(i), kValues[i]);
  }
  EXPECT_EQ(lra.length(0), 9);  // parentheses are not tokens
  EXPECT_EQ(lra.ids_data()[0], listops::kMax);
  EXPECT_EQ(lra.ids_data()[1], listops::kDigit0 + 2);
}

TEST(ListOpsReader, ToleratesLfBlankLinesAndWrongLabels) {
  TempDir dir;
  // LF endings, a blank line, no final newline; the label 3 of "[MAX 1 5 ]" is wrong but loads.
  write_file(dir.file("a.tsv"), "Source\tTarget\n[MAX 1 5 ]\t3\n\n( ( [MIN 4 ) ] )\t4");
  const auto examples = read_listops_tsv(dir.file("a.tsv"), 2000);
  ASSERT_EQ(examples.size(), 2);
  EXPECT_EQ(examples.label(0), 3);
  EXPECT_EQ(examples.text(1), "[MIN 4 ]");
}

TEST(ListOpsReader, DirectoryGivesTheThreeSplits) {
  TempDir dir;
  write_tsv(dir.file("basic_train.tsv"), {lra_form(kPlain[0]) + "\t9", "7\t7"});
  write_tsv(dir.file("basic_val.tsv"), {lra_form(kPlain[2]) + "\t8"});
  write_tsv(dir.file("basic_test.tsv"), {lra_form(kPlain[3]) + "\t4"});
  const auto data = read_listops_directory(dir.path(), 2000);
  EXPECT_EQ(data.train.size(), 2);
  EXPECT_EQ(data.val.size(), 1);
  EXPECT_EQ(data.test.size(), 1);
  EXPECT_EQ(data.val.text(0), kPlain[2]);

  fs::remove(dir.file("basic_val.tsv"));
  expect_data_error([&] { read_listops_directory(dir.path(), 2000); },
                    {dir.file("basic_val.tsv") + ": ListOps file not found"});
}

TEST(ListOpsReader, MissingOrEmptyFileIsNamed) {
  const std::string missing = "/nonexistent/attnlab/basic_train.tsv";
  expect_data_error([&] { read_listops_tsv(missing, 2000); },
                    {missing + ": ListOps file not found"});
  TempDir dir;
  expect_data_error([&] { read_listops_tsv(dir.path(), 2000); },  // a directory is not a file
                    {dir.path() + ": ListOps file not found"});
  write_tsv(dir.file("empty.tsv"), {});
  expect_data_error([&] { read_listops_tsv(dir.file("empty.tsv"), 2000); },
                    {dir.file("empty.tsv") + ": no ListOps rows"});
}

// Writes a good row, then `bad` as line 3, and expects the error to name line 3.
void expect_bad_row(const std::string& bad, const std::string& message, int64_t max_length = 2000) {
  TempDir dir;
  const auto path = dir.file("bad.tsv");
  write_tsv(path, {"7\t7", bad, "8\t8"});
  expect_data_error([&] { read_listops_tsv(path, max_length); }, {path + ":3: " + message});
}

TEST(ListOpsReader, WrongHeaderIsNamed) {
  TempDir dir;
  const auto path = dir.file("h.tsv");
  write_file(path, "[MAX 1 2 ]\t2\n");
  expect_data_error([&] { read_listops_tsv(path, 2000); },
                    {path + ":1: expected the header 'Source<TAB>Target', got '[MAX 1 2 ]"});
}

TEST(ListOpsReader, WrongColumnCountIsNamed) {
  expect_bad_row("[MAX 1 2 ]", "expected 2 tab-separated columns (Source, Target), got 1");
  expect_bad_row("[MAX 1 2 ]\t2\t2", "expected 2 tab-separated columns (Source, Target), got 3");
}

TEST(ListOpsReader, UnknownTokenIsNamed) {
  expect_bad_row("( ( [MAX 1 ) [FIRST 2 ] )\t2", "word 6 ('[FIRST') is not a ListOps token");
  expect_bad_row("[MAX 1 X ]\t1", "word 3 ('X') is not a ListOps token");
  expect_bad_row("[MAX 1 12 ]\t1", "word 3 ('12') is not a ListOps token");
}

TEST(ListOpsReader, LabelOutsideTheDigitsIsNamed) {
  expect_bad_row("[MAX 1 2 ]\t10", "label '10' is not an integer in 0..9");
  expect_bad_row("[MAX 1 2 ]\t-1", "label '-1' is not an integer in 0..9");
  expect_bad_row("[MAX 1 2 ]\t", "label '' is not an integer in 0..9");
  expect_bad_row("[MAX 1 2 ]\t2.5", "label '2.5' is not an integer in 0..9");
}

TEST(ListOpsReader, UnparseableExpressionIsNamed) {
  expect_bad_row("[MAX 1 2\t2", "cannot parse the expression: token 1 ('[MAX') is never closed");
  expect_bad_row("[MAX ]\t2", "cannot parse the expression: token 1 ('[MAX') has no arguments");
  expect_bad_row("1 ]\t1", "cannot parse the expression: token 2 (']') follows the end");
  expect_bad_row("\t1", "cannot parse the expression: empty expression");
  expect_bad_row("( ( [MAX 1 ) 2 ] \t2", "cannot parse the expression: 1 unclosed '('");
  expect_bad_row("( [MAX 1 ) ) 2 ]\t2", "cannot parse the expression: word 5 (')') closes no '('");
}

TEST(ListOpsReader, TooLongExpressionIsNamed) {
  expect_bad_row(lra_form("[SM 1 2 3 4 5 ]") + "\t5",
                 "expression has 7 tokens, more than max_length 6", 6);
  TempDir dir;
  write_tsv(dir.file("ok.tsv"), {lra_form("[SM 1 2 3 4 5 ]") + "\t5"});
  EXPECT_EQ(read_listops_tsv(dir.file("ok.tsv"), 7).size(), 1);  // the bound is inclusive
}

}  // namespace
}  // namespace attnlab::datasets
