// The text-classification word tokenizer; see tokenizer.h.
#include "datasets/tokenizer.h"

#include <stdexcept>

namespace attnlab::datasets {
namespace {

bool ascii_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool ascii_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// std::ispunct without the locale: printable ASCII that is neither a letter, a digit nor a space.
bool ascii_punct(unsigned char c) { return c > ' ' && c < 0x7f && !ascii_letter(c) && !ascii_digit(c); }

}  // namespace

std::vector<std::string> tokenize(const std::string& text, const TokenizerOptions& o) {
  enum { kSplit, kStrip, kKeep } mode;
  if (o.punctuation == "split") {
    mode = kSplit;
  } else if (o.punctuation == "strip") {
    mode = kStrip;
  } else if (o.punctuation == "keep") {
    mode = kKeep;
  } else {
    throw std::invalid_argument("punctuation: '" + o.punctuation + "' is not one of: split, strip, keep");
  }
  std::vector<std::string> tokens;
  std::string token;
  bool has_digit = false;
  auto flush = [&] {
    if (token.empty()) return;
    if (has_digit && !o.digits_to.empty()) token = o.digits_to;
    tokens.push_back(std::move(token));
    token.clear();
    has_digit = false;
  };
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ascii_space(c)) {
      flush();
    } else if (ascii_punct(c) && mode != kKeep) {
      if (mode == kSplit) {
        flush();
        token = std::string(1, ch);
        flush();
      }  // kStrip: deleted where it stands
    } else {
      has_digit = has_digit || ascii_digit(c);
      token += o.lowercase && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch;
    }
  }
  flush();
  return tokens;
}

}  // namespace attnlab::datasets
