// CSV (RFC 4180 quoting), TSV and JSON Lines records: quoted delimiters, doubled quotes and line
// breaks inside quotes with physical line numbers kept, header names and 0-based indexes, the
// format by extension, and bad rows named by file:line (or skipped and counted).
#include "datasets/delimited_reader.h"
#include "datasets/dataset.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>

namespace attnlab::datasets {
namespace {

using attnlab::testing::TempDir;
using attnlab::testing::write_file;
using attnlab::testing::error_of;

TEST(DelimitedReader, CsvQuotingEdgeCases) {
  const std::string csv =
      "a,b,c\r\n"
      "\"x, y\",\"say \"\"hi\"\"\",plain\r\n"   // line 2: quoted comma, doubled quotes, CRLF
      "\"two\nlines\",,\"\"\n"                   // line 3-4: a line break inside quotes, empty fields
      "\n"                                       // line 5: blank
      "un\"quoted,\"\",end";                     // line 6: a quote inside an unquoted field, no final newline
  const auto r = parse_delimited(csv, ',', true, "f.csv");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].fields, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[1].fields, (std::vector<std::string>{"x, y", "say \"hi\"", "plain"}));
  EXPECT_EQ(r[2].line, 3);
  EXPECT_EQ(r[2].fields, (std::vector<std::string>{"two\nlines", "", ""}));
  EXPECT_EQ(r[3].line, 6);  // physical lines keep counting after the record that spans two
  EXPECT_EQ(r[3].fields, (std::vector<std::string>{"un\"quoted", "", "end"}));
  for (const auto& rec : r) EXPECT_EQ(rec.problem, "") << rec.line;
}

TEST(DelimitedReader, CsvStructuralErrorsNameTheLine) {
  const auto r = parse_delimited("a,b\n\"ab\"c,d\n", ',', true, "f.csv");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[1].problem.find("column 1: text after a closing quote"), std::string::npos) << r[1].problem;
  EXPECT_EQ(error_of([] { parse_delimited("a,b\nx,y\n\"never\nclosed,z\n", ',', true, "f.csv"); }),
            "f.csv:3: quoted field opened here is never closed");
}

TEST(DelimitedReader, TsvHasNoQuotingByDefault) {
  TempDir dir;
  const std::string path = write_file(dir, "d.tsv", "text\tlabel\nhe said \"no, thanks\"\tneg\n\"quoted\"\tpos\n");
  const auto r = read_text_records(path, {});
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "he said \"no, thanks\"");
  EXPECT_EQ(r.records[1].text, "\"quoted\"");
  EXPECT_EQ(r.records[1].line, 3);
  TableOptions rfc;
  rfc.quoting = "rfc4180";
  EXPECT_EQ(read_text_records(path, rfc).records[1].text, "quoted");
}

TEST(DelimitedReader, HeaderNamesAndIndexes) {  // n.csv starts with a UTF-8 byte-order mark
  TempDir dir;
  const std::string named = write_file(dir, "n.csv", "\xEF\xBB\xBFid,sentence,y\n1,\"good, fun\",pos\n2,dull,neg\n");
  TableOptions o;
  o.text_column = "sentence";
  o.label_column = "y";
  auto r = read_text_records(named, o);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "good, fun");
  EXPECT_EQ(r.records[0].label, "pos");
  EXPECT_EQ(r.records[1].line, 3);

  const std::string bare = write_file(dir, "b.csv", "pos,1,good fun\nneg,2,dull\n");
  TableOptions idx;
  idx.header = false;
  idx.text_column = "2";
  idx.label_column = "0";
  r = read_text_records(bare, idx);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "good fun");
  EXPECT_EQ(r.records[1].label, "neg");
  EXPECT_EQ(r.records[0].line, 1);

  idx.text_column = "sentence";
  EXPECT_NE(error_of([&] { read_text_records(bare, idx); }).find("text_column: 'sentence' must be a 0-based column index"),
            std::string::npos);
  o.text_column = "review";
  EXPECT_EQ(error_of([&] { read_text_records(named, o); }),
            named + ":1: no column 'review' in the header (columns: id, sentence, y); set data.text_column / "
                    "data.label_column, or header: false");
}

TEST(DelimitedReader, Jsonl) {
  TempDir dir;
  const std::string path = write_file(dir, "d.jsonl",
                                 "{\"text\": \"a \\\"quoted\\\" word\", \"label\": 1}\n"
                                 "\n"
                                 "{\"label\": \"neg\", \"text\": \"two\\nlines\", \"extra\": [1]}\n");
  const auto r = read_text_records(path, {});
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "a \"quoted\" word");
  EXPECT_EQ(r.records[0].label, "1");
  EXPECT_EQ(r.records[1].line, 3);
  EXPECT_EQ(r.records[1].text, "two\nlines");
  EXPECT_EQ(r.records[1].label, "neg");
}

TEST(DelimitedReader, FormatByExtensionOrKey) {
  EXPECT_EQ(table_format("a/b.CSV", "auto"), TableFormat::kCsv);
  EXPECT_EQ(table_format("b.tsv", "auto"), TableFormat::kTsv);
  EXPECT_EQ(table_format("b.jsonl", "auto"), TableFormat::kJsonl);
  EXPECT_EQ(table_format("b.txt", "tsv"), TableFormat::kTsv);
  EXPECT_NE(error_of([] { table_format("b.txt", "auto"); }).find("b.txt: cannot tell the format"), std::string::npos);
}

TEST(DelimitedReader, BadRowsNameFileLineAndColumn) {
  TempDir dir;
  const std::string csv = write_file(dir, "bad.csv", "text,label\ngood,pos\nnot, quoted,pos\nfine,neg\n");
  EXPECT_EQ(error_of([&] { read_text_records(csv, {}); }),
            csv + ":3: expected 2 columns as the header has, got 3 (quote a text that holds commas)");
  const std::string empty_label = write_file(dir, "e.csv", "text,label\ngood,pos\nbad, \n");
  EXPECT_EQ(error_of([&] { read_text_records(empty_label, {}); }), empty_label + ":3: column 'label': empty label");
  const std::string json = write_file(dir, "bad.jsonl",
                                 "{\"text\": \"ok\", \"label\": 0}\n{\"text\": 5, \"label\": 0}\n{\"text\": \"x\"}\n"
                                 "{\"text\": \"x\", \"label\": 0.5}\n{not json}\n[1]\n");
  EXPECT_EQ(error_of([&] { read_text_records(json, {}); }), json + ":2: key 'text': expected a string, got number");
  TableOptions skip;
  skip.skip_bad_rows = true;
  const auto r = read_text_records(json, skip);
  EXPECT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.skipped, 5);
  EXPECT_EQ(r.first_skipped, json + ":2: key 'text': expected a string, got number");
  const auto c = read_text_records(csv, skip);
  EXPECT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[1].line, 4);
  EXPECT_EQ(c.skipped, 1);
}

TEST(DelimitedReader, MissingAndEmptyFiles) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { read_text_records(dir / "nope.csv", {}); }), (dir / "nope.csv") + ": file not found");
  const std::string header_only = write_file(dir, "h.csv", "text,label\n");
  EXPECT_EQ(error_of([&] { read_text_records(header_only, {}); }), header_only + ": no rows");
}

}  // namespace
}  // namespace attnlab::datasets
