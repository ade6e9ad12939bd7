// Text <-> token ids for the plain-text language-model corpus (text_corpus.h), at two levels:
//
// byte: token = byte value 0..255, pad = 256, vocab_size 257. Every token stands for 1 byte, and
//   decode(encode(text)) == text for any bytes (UTF-8 or not).
// word: tokens are maximal runs of non-whitespace bytes ("words", punctuation attached as written)
//   and each newline '\n' on its own, so text keeps its lines. Ids: 0 <pad>, 1 <unk>, 2 newline,
//   then the words of the vocabulary by count (descending), ties by string (ascending, bytewise),
//   which makes the vocabulary a pure function of the text it is built from. A word seen fewer
//   than min_count times, or beyond max_vocab ids, is <unk>.
//   Byte attribution (what bits per byte divides by): a token stands for its own bytes plus the
//   spaces, tabs and carriage returns that follow it up to the next token (its separator);
//   whitespace before the very first token counts with that token. So the byte counts of a text's
//   tokens sum to the text's size exactly, including the bytes of <unk> words. (The model still pays
//   less than a byte model for those bytes: <unk> hides a word's spelling, spacing is free.)
//   Decoding writes single spaces between words and nothing around newlines: the words and lines
//   come back, the exact spacing (indentation, double spaces, tabs) does not.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnlab::datasets {

enum class TextLevel { kByte, kWord };
// "byte" | "word"; anything else throws std::invalid_argument naming the choices.
TextLevel parse_text_level(const std::string& name);
const char* text_level_name(TextLevel level);

// The word-level pieces of `text` (words and "\n"), in order, and how many bytes of the text each
// one stands for (see above). Whitespace-only text gives no pieces.
struct WordPieces {
  std::vector<std::string> pieces;
  std::vector<int32_t> bytes;
};
WordPieces split_words(const std::string& text);

// Token ids of a text with the bytes each token stands for.
struct EncodedText {
  std::vector<int64_t> ids;
  std::vector<int64_t> bytes;
};

class TextCodec {
 public:
  static constexpr int64_t kWordPad = 0, kWordUnk = 1, kWordNewline = 2;

  // The fixed byte vocabulary.
  static TextCodec byte_level();
  // A word vocabulary from the pieces of the training text (split_words(train).pieces).
  // max_vocab counts every id including the 3 special ones (0: no limit; otherwise >= 4);
  // min_count >= 1. Bad values throw std::invalid_argument.
  static TextCodec word_level(const std::vector<std::string>& train_pieces, int64_t max_vocab,
                              int64_t min_count);

  TextLevel level() const { return level_; }
  int64_t vocab_size() const;
  int64_t pad_id() const { return level_ == TextLevel::kByte ? 256 : kWordPad; }
  int64_t unk_id() const { return level_ == TextLevel::kByte ? -1 : kWordUnk; }  // -1: none

  // The id of one word-level piece ("\n" or a word; unknown -> <unk>). Word level only.
  int64_t word_id(const std::string& piece) const;
  EncodedText encode(const std::string& text) const;
  // The text of ids; the pad id decodes to nothing, <unk> to "<unk>". Ids outside the vocabulary
  // throw std::out_of_range.
  std::string decode(const std::vector<int64_t>& ids) const;
  // The text to append to `prompt` for continuation `ids`: decode(ids), with a space in front at
  // word level when both the prompt and the continuation's first token are words.
  std::string continuation(const std::string& prompt, const std::vector<int64_t>& ids) const;
  // What one id stands for: a byte (as a 1-char string), "<pad>", "<unk>", "\n" or a word.
  std::string token(int64_t id) const;

 private:
  explicit TextCodec(TextLevel level) : level_(level) {}

  TextLevel level_;
  std::vector<std::string> words_;                   // word level: id -> text (specials included)
  std::unordered_map<std::string, int64_t> word_ids_;  // word level: word -> id (no specials)
};

}  // namespace attnlab::datasets
