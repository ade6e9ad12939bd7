// Reading the values of command-line options (--max-new-tokens 300, --repeats 5): a value that is
// not a whole number of the right kind is a UserError naming the option, shared by every command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnlab::tools {

// An integer option; with `lowest`, smaller values are refused too. Errors read
// "OPTION: expected an integer[ >= LOWEST], got 'TEXT'".
int64_t parse_int_option(const std::string& option, const std::string& text,
                         std::optional<int64_t> lowest = std::nullopt);
// A finite number > 0. Errors read "OPTION: expected a positive number, got 'TEXT'".
double parse_positive_option(const std::string& option, const std::string& text);
// The non-empty items of "a,b,,c". None at all reads "OPTION: expected a comma-separated list,
// got 'TEXT'".
std::vector<std::string> parse_list_option(const std::string& option, const std::string& text);

}  // namespace attnlab::tools
