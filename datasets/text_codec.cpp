// Byte and word codecs of the text corpus; text_codec.h has the conventions.
#include "datasets/text_codec.h"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace attnlab::datasets {
namespace {

// Whitespace that separates words without ending a line.
bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

TextLevel parse_text_level(const std::string& name) {
  if (name == "byte") return TextLevel::kByte;
  if (name == "word") return TextLevel::kWord;
  throw std::invalid_argument("text: level must be byte or word, got '" + name + "'");
}

const char* text_level_name(TextLevel level) { return level == TextLevel::kByte ? "byte" : "word"; }

WordPieces split_words(const std::string& text) {
  WordPieces out;
  const size_t n = text.size();
  size_t i = 0;
  int32_t leading = 0;  // separators before the first piece count with it
  while (i < n && is_separator(text[i])) ++i, ++leading;
  while (i < n) {
    const size_t start = i;
    if (text[i] == '\n') {
      ++i;
    } else {
      while (i < n && text[i] != '\n' && !is_separator(text[i])) ++i;
    }
    std::string piece = text.substr(start, i - start);
    while (i < n && is_separator(text[i])) ++i;  // the piece's separator
    int32_t bytes = static_cast<int32_t>(i - start);
    if (out.pieces.empty()) bytes += leading;
    out.pieces.push_back(std::move(piece));
    out.bytes.push_back(bytes);
  }
  return out;
}

TextCodec TextCodec::byte_level() { return TextCodec(TextLevel::kByte); }

TextCodec TextCodec::word_level(const std::vector<std::string>& train_pieces, int64_t max_vocab,
                                int64_t min_count) {
  if (max_vocab != 0 && max_vocab < 4) {
    throw std::invalid_argument("text: max_vocab must be 0 (no limit) or at least 4 (3 special ids + 1 word), got " +
                                std::to_string(max_vocab));
  }
  if (min_count < 1) throw std::invalid_argument("text: min_count must be at least 1, got " + std::to_string(min_count));
  std::map<std::string, int64_t> counts;  // ordered, so equal counts come out sorted by string
  for (const auto& p : train_pieces) {
    if (p != "\n") ++counts[p];
  }
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });

  TextCodec codec(TextLevel::kWord);
  codec.words_ = {"<pad>", "<unk>", "\n"};
  for (const auto& [word, count] : ranked) {
    if (count < min_count) break;  // ranked by count: every later word is rarer
    if (max_vocab > 0 && static_cast<int64_t>(codec.words_.size()) >= max_vocab) break;
    codec.word_ids_.emplace(word, static_cast<int64_t>(codec.words_.size()));
    codec.words_.push_back(word);
  }
  return codec;
}

int64_t TextCodec::vocab_size() const {
  return level_ == TextLevel::kByte ? 257 : static_cast<int64_t>(words_.size());
}

int64_t TextCodec::word_id(const std::string& piece) const {
  if (piece == "\n") return kWordNewline;
  const auto it = word_ids_.find(piece);
  return it == word_ids_.end() ? kWordUnk : it->second;
}

EncodedText TextCodec::encode(const std::string& text) const {
  EncodedText out;
  if (level_ == TextLevel::kByte) {
    out.ids.reserve(text.size());
    for (const char c : text) out.ids.push_back(static_cast<unsigned char>(c));
    out.bytes.assign(text.size(), 1);
    return out;
  }
  const auto words = split_words(text);
  for (size_t i = 0; i < words.pieces.size(); ++i) {
    out.ids.push_back(word_id(words.pieces[i]));
    out.bytes.push_back(words.bytes[i]);
  }
  return out;
}

std::string TextCodec::token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    throw std::out_of_range("text codec: id " + std::to_string(id) + " is outside the vocabulary 0.." +
                            std::to_string(vocab_size() - 1));
  }
  if (level_ == TextLevel::kByte) return id == pad_id() ? "<pad>" : std::string(1, static_cast<char>(id));
  return words_[id];
}

std::string TextCodec::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  bool after_word = false;  // word level: a space goes between two words
  for (const int64_t id : ids) {
    const std::string t = token(id);  // checks the range
    if (id == pad_id()) continue;
    if (level_ == TextLevel::kByte) {
      out += t;
      continue;
    }
    const bool word = id != kWordNewline;
    if (word && after_word) out += ' ';
    out += t;
    after_word = word;
  }
  return out;
}

std::string TextCodec::continuation(const std::string& prompt, const std::vector<int64_t>& ids) const {
  std::string text = decode(ids);
  if (level_ == TextLevel::kWord && !prompt.empty() && !text.empty() && prompt.back() != '\n' &&
      !is_separator(prompt.back()) && text.front() != '\n') {
    text.insert(text.begin(), ' ');
  }
  return text;
}

}  // namespace attnlab::datasets
