// Reading the (text, label) pairs of a text-classification file: CSV, TSV or JSON Lines, each
// record with the physical line it starts on, so every error can name PATH:LINE.
//
// CSV follows RFC 4180: a field may be quoted with `"`; inside quotes a delimiter, a line break
// and a doubled quote `""` (one quote) are data; a quote inside an unquoted field is kept as a
// character. A record that spans lines is reported at the line it starts on, and the lines after
// it keep their physical numbers. CRLF and LF endings both read; blank lines are skipped.
// TSV, by default, has no quoting (IANA text/tab-separated-values: a field never holds a tab or a
// line break, so `"` is an ordinary character, as in GLUE's SST-2 files); `quoting: rfc4180` reads
// TSV written by Python's csv module or pandas, which quote fields holding quotes.
// JSON Lines: one JSON object per non-blank line (nlohmann-json); the text must be a string, the
// label a string or an integer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab::datasets {

enum class TableFormat { kCsv, kTsv, kJsonl };

// "csv" | "tsv" | "jsonl" | "auto" (by extension: .csv, .tsv/.tab, .jsonl/.ndjson/.json).
// Throws DataError naming the path when auto cannot tell, std::invalid_argument for a bad name.
TableFormat table_format(const std::string& path, const std::string& format);

// One record of a delimited file: its fields, the line it starts on, and the first structural
// problem of that record ("" if none), e.g. text after a closing quote.
struct DelimitedRecord {
  int64_t line = 0;
  std::vector<std::string> fields;
  std::string problem;
};

// Splits `content` into records. quotes = RFC 4180 quoting. An unterminated quoted field is not a
// record-level problem (it swallows the rest of the file): it throws DataError
// "PATH:LINE: quoted field opened here is never closed".
std::vector<DelimitedRecord> parse_delimited(const std::string& content, char delimiter, bool quotes,
                                             const std::string& path);

struct TableOptions {
  std::string format = "auto";    // see table_format
  std::string quoting = "auto";   // auto (rfc4180 for CSV, none for TSV) | rfc4180 | none
  bool header = true;             // CSV/TSV: the first record names the columns
  // CSV/TSV with a header: a column name; without one: a 0-based column index ("0", "1"...).
  // JSONL: the object key.
  std::string text_column = "text";
  std::string label_column = "label";  // "": the file has no labels (every record's label is "")
  bool skip_bad_rows = false;     // false: the first bad row throws; true: skipped and counted
};

struct TextRecord {
  int64_t line = 0;     // physical line the record starts on (1-based)
  std::string text;
  std::string label;    // an integer label as its decimal text
};

struct TextRecords {
  std::vector<TextRecord> records;
  int64_t skipped = 0;          // bad rows skipped (skip_bad_rows)
  std::string first_skipped;    // the message of the first one, for the summary line
};

// Reads every (text, label) of `path`. Errors (DataError): "PATH: file not found";
// "PATH: cannot read (...)"; "PATH:LINE: no column 'x' in the header (columns: ...)";
// "PATH:LINE: expected N columns as the header has, got M"; "PATH:LINE: no column K (the row has M)";
// "PATH:LINE: column 'label': empty label"; "PATH:LINE: not a JSON object (...)";
// "PATH:LINE: key 'text': missing" / "expected a string, got number"; "PATH: no rows".
// Options that cannot work (a column name without a header) throw std::invalid_argument.
TextRecords read_text_records(const std::string& path, const TableOptions& options);

}  // namespace attnlab::datasets
