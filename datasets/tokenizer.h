// A word tokenizer for text classification: a pure function of the text and its options.
//
// Steps, in order: (1) lowercase ASCII letters (bytes >= 0x80, i.e. UTF-8 beyond ASCII, are kept
// as they are and count as word characters); (2) ASCII punctuation (std::ispunct: !"#$%&'()*+,-./
// :;<=>?@[\]^_`{|}~) is `split` into one-character tokens, `strip`ped (deleted where it stands, so
// "don't" -> "dont" and a lone "," disappears) or `keep`t inside words; (3) split at whitespace;
// (4) a token containing an ASCII digit becomes `digits_to` when that is set (the papers' "qqq":
// "1990s" -> "qqq"). Empty tokens are never produced.
//
// Jain & Wallace tokenise with spaCy and then strip non-word characters; spaCy also separates
// clitics ("don't" -> "do n't"), which this whitespace tokenizer does not, so vocabularies differ
// slightly from the papers' on contracted words.
#pragma once

#include <string>
#include <vector>

namespace attnlab::datasets {

struct TokenizerOptions {
  bool lowercase = true;
  std::string punctuation = "split";  // split | strip | keep
  std::string digits_to;              // "" = keep digits; e.g. "qqq"
};

// Throws std::invalid_argument for an unknown punctuation mode.
std::vector<std::string> tokenize(const std::string& text, const TokenizerOptions& options);

}  // namespace attnlab::datasets
