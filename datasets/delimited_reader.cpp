// CSV / TSV / JSON Lines records with their line numbers; see delimited_reader.h.
#include "datasets/delimited_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "datasets/dataset.h"

namespace attnlab::datasets {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool blank(const std::string& s) {
  for (const char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

std::string read_file(const std::string& path) {
  if (!std::filesystem::exists(path)) throw DataError(path + ": file not found");
  if (std::filesystem::is_directory(path)) throw DataError(path + ": cannot read (it is a directory)");
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) throw DataError(path + ": cannot read (" + std::strerror(errno) + ")");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw DataError(path + ": cannot read");
  return out.str();
}

std::string quoted_excerpt(const std::string& s) {
  return "'" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "'";
}

// A 0-based column index from the recipe's column key when the file has no header.
size_t column_index(const std::string& key, const std::string& value) {
  size_t used = 0;
  long long index = -1;
  try {
    index = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || index < 0) {
    throw std::invalid_argument(key + ": '" + value +
                                "' must be a 0-based column index when header is false");
  }
  return static_cast<size_t>(index);
}

class Rows {
 public:
  Rows(const std::string& path, bool skip) : path_(path), skip_(skip) {}
  // A bad row: thrown, or counted when skipping.
  void bad(int64_t line, const std::string& what) {
    const std::string message = path_ + ":" + std::to_string(line) + ": " + what;
    if (!skip_) throw DataError(message);
    if (out.skipped++ == 0) out.first_skipped = message;
  }
  // label_name "" = a file without labels (texts only).
  void add(int64_t line, std::string text, std::string label, const std::string& label_name) {
    if (!label_name.empty() && blank(label)) return bad(line, label_name + ": empty label");
    out.records.push_back({line, std::move(text), std::move(label)});
  }
  TextRecords out;

 private:
  std::string path_;
  bool skip_;
};

void read_delimited(const std::string& path, const std::string& content, char delimiter, bool quotes,
                    const TableOptions& o, Rows& rows) {
  const auto records = parse_delimited(content, delimiter, quotes, path);
  size_t first = 0, text_col = 0, label_col = 0, columns = 0;
  std::string label_name;  // stays "" for a file without labels
  const bool has_labels = !o.label_column.empty();
  if (o.header) {
    if (records.empty()) return;
    const auto& head = records[0];
    const std::string where = path + ":" + std::to_string(head.line) + ": ";
    if (!head.problem.empty()) throw DataError(where + "header: " + head.problem);
    auto find = [&](const std::string& name) {
      for (size_t i = 0; i < head.fields.size(); ++i)
        if (head.fields[i] == name) return i;
      std::string names;
      for (const auto& f : head.fields) names += (names.empty() ? "" : ", ") + f;
      throw DataError(where + "no column '" + name + "' in the header (columns: " + names +
                      "); set data.text_column / data.label_column, or header: false");
    };
    text_col = find(o.text_column);
    if (has_labels) label_col = find(o.label_column);
    columns = head.fields.size();
    if (has_labels) label_name = "column '" + o.label_column + "'";
    first = 1;
  } else {
    text_col = column_index("text_column", o.text_column);
    if (has_labels) label_col = column_index("label_column", o.label_column);
    if (has_labels) label_name = "column " + o.label_column;
  }
  for (size_t r = first; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (!rec.problem.empty()) {
      rows.bad(rec.line, rec.problem);
      continue;
    }
    const size_t n = rec.fields.size();
    if (o.header && n != columns) {
      rows.bad(rec.line, "expected " + std::to_string(columns) + " columns as the header has, got " +
                             std::to_string(n) + (delimiter == ',' ? " (quote a text that holds commas)" : ""));
      continue;
    }
    if (!o.header && (text_col >= n || label_col >= n)) {
      rows.bad(rec.line, "no column " + std::to_string(std::max(text_col, label_col)) + " (the row has " +
                             std::to_string(n) + ")");
      continue;
    }
    std::string label = has_labels ? rec.fields[label_col] : std::string();
    // Surrounding spaces of a label are layout, not data (" pos" is "pos").
    const auto b = label.find_first_not_of(" \t\r");
    label = b == std::string::npos ? "" : label.substr(b, label.find_last_not_of(" \t\r") - b + 1);
    rows.add(rec.line, rec.fields[text_col], std::move(label), label_name);
  }
}

void read_jsonl(const std::string& content, const TableOptions& o, Rows& rows) {
  using nlohmann::json;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (blank(line)) continue;
    json row;
    try {
      row = json::parse(line);
    } catch (const json::parse_error& e) {
      // nlohmann's message starts "[json.exception.parse_error.101] parse error at line 1, ..."
      std::string what = e.what();
      const auto at = what.find("parse error");
      rows.bad(line_no, "not valid JSON (" + (at == std::string::npos ? what : what.substr(at)) + ")");
      continue;
    }
    if (!row.is_object()) {
      rows.bad(line_no, std::string("expected a JSON object, got ") + row.type_name());
      continue;
    }
    const auto text = row.find(o.text_column);
    const auto label = o.label_column.empty() ? row.end() : row.find(o.label_column);
    if (text == row.end()) {
      rows.bad(line_no, "key '" + o.text_column + "': missing");
      continue;
    }
    if (!text->is_string()) {
      rows.bad(line_no, "key '" + o.text_column + "': expected a string, got " + text->type_name());
      continue;
    }
    if (o.label_column.empty()) {  // texts only
      rows.add(line_no, text->get<std::string>(), "", "");
      continue;
    }
    if (label == row.end()) {
      rows.bad(line_no, "key '" + o.label_column + "': missing");
      continue;
    }
    std::string label_text;
    if (label->is_string()) {
      label_text = label->get<std::string>();
    } else if (label->is_number_integer()) {
      label_text = label->dump();
    } else {
      rows.bad(line_no, "key '" + o.label_column + "': expected a string or an integer, got " +
                            std::string(label->type_name()) + " " + quoted_excerpt(label->dump()));
      continue;
    }
    rows.add(line_no, text->get<std::string>(), std::move(label_text), "key '" + o.label_column + "'");
  }
}

}  // namespace

TableFormat table_format(const std::string& path, const std::string& format) {
  if (format == "csv") return TableFormat::kCsv;
  if (format == "tsv") return TableFormat::kTsv;
  if (format == "jsonl") return TableFormat::kJsonl;
  if (format != "auto") throw std::invalid_argument("format: '" + format + "' is not one of: auto, csv, tsv, jsonl");
  const std::string ext = lower(std::filesystem::path(path).extension().string());
  if (ext == ".csv") return TableFormat::kCsv;
  if (ext == ".tsv" || ext == ".tab") return TableFormat::kTsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return TableFormat::kJsonl;
  throw DataError(path + ": cannot tell the format from the extension '" + ext +
                  "' (expected .csv, .tsv, .jsonl); give the format (data.format in a recipe, --format "
                  "on the command line)");
}

std::vector<DelimitedRecord> parse_delimited(const std::string& s, char delimiter, bool quotes,
                                             const std::string& path) {
  std::vector<DelimitedRecord> out;
  const size_t n = s.size();
  size_t pos = 0;
  int64_t line = 1;
  while (pos < n) {
    DelimitedRecord rec;
    rec.line = line;
    bool any_quoted = false;
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (quotes && pos < n && s[pos] == '"') {
        any_quoted = true;
        const int64_t opened = line;
        ++pos;
        while (true) {
          if (pos >= n) throw DataError(path + ":" + std::to_string(opened) + ": quoted field opened here is never closed");
          const char c = s[pos];
          if (c == '"') {
            if (pos + 1 < n && s[pos + 1] == '"') {  // "" is one quote
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++pos;
        }
        // After the closing quote only a delimiter or the end of the line may follow.
        const bool ok = pos >= n || s[pos] == delimiter || s[pos] == '\n' ||
                        (s[pos] == '\r' && (pos + 1 >= n || s[pos + 1] == '\n'));
        if (!ok && rec.problem.empty()) {
          rec.problem = "column " + std::to_string(rec.fields.size() + 1) +
                        ": text after a closing quote (a quote inside a quoted field is written \"\")";
        }
      }
      // Unquoted field, or what follows a closing quote up to the delimiter / line end.
      while (pos < n && s[pos] != delimiter && s[pos] != '\n') field += s[pos++];
      if (pos < n && s[pos] == delimiter) {
        ++pos;
      } else {
        if (!field.empty() && field.back() == '\r') field.pop_back();  // CRLF
        if (pos < n) {  // '\n'
          ++pos;
          ++line;
        }
        end_of_record = true;
      }
      rec.fields.push_back(std::move(field));
    }
    if (!any_quoted && rec.fields.size() == 1 && blank(rec.fields[0])) continue;  // blank line
    out.push_back(std::move(rec));
  }
  return out;
}

TextRecords read_text_records(const std::string& path, const TableOptions& o) {
  const TableFormat format = table_format(path, o.format);
  if (o.quoting != "auto" && o.quoting != "rfc4180" && o.quoting != "none")
    throw std::invalid_argument("quoting: '" + o.quoting + "' is not one of: auto, rfc4180, none");
  if (!o.header && format != TableFormat::kJsonl) {  // check the options before reading anything
    column_index("text_column", o.text_column);
    column_index("label_column", o.label_column);
  }
  std::string content = read_file(path);
  if (content.compare(0, 3, "\xEF\xBB\xBF") == 0) content.erase(0, 3);  // a UTF-8 byte-order mark (Excel's CSV)
  Rows rows(path, o.skip_bad_rows);
  if (format == TableFormat::kJsonl) {
    read_jsonl(content, o, rows);
  } else {
    const bool csv = format == TableFormat::kCsv;
    const bool quotes = o.quoting == "auto" ? csv : o.quoting == "rfc4180";
    read_delimited(path, content, csv ? ',' : '\t', quotes, o, rows);
  }
  if (rows.out.records.empty()) {
    throw DataError(path + ": no rows" +
                    (rows.out.skipped ? " left after skipping " + std::to_string(rows.out.skipped) +
                                            " bad ones (first: " + rows.out.first_skipped + ")"
                                      : std::string()));
  }
  return std::move(rows.out);
}

}  // namespace attnlab::datasets
