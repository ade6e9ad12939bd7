// The plain-text language-model corpus; text_corpus.h has the splits and windows.
#include "datasets/text_corpus.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace attnlab::datasets {
namespace {

namespace fs = std::filesystem;

std::string read_one(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw DataError(path + ": text file not found");
  if (fs::is_directory(path, ec)) throw DataError(path + ": cannot read text file (it is a directory)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot read text file (" + std::strerror(errno) + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw DataError(path + ": cannot read text file (" + std::strerror(errno) + ")");
  std::string s = text.str();
  if (s.empty()) throw DataError(path + ": empty text file");
  return s;
}

void check_options(const TextCorpusOptions& o) {
  if (o.files.empty()) throw std::invalid_argument("text: no files given; list at least one plain-text file in files");
  parse_text_level(o.level);
  if (o.seq_len < 1) throw std::invalid_argument("text: seq_len must be at least 1, got " + std::to_string(o.seq_len));
  if (o.stride < 0 || o.stride > o.seq_len) {
    throw std::invalid_argument("text: stride must be in 0..seq_len (0: seq_len), got " + std::to_string(o.stride));
  }
  if (!(o.val_fraction >= 0 && o.test_fraction >= 0 && o.val_fraction + o.test_fraction < 1)) {
    throw std::invalid_argument("text: val_fraction and test_fraction must be >= 0 with a sum below 1");
  }
}

// Tokens each part gets: test and val by their fractions (rounded), train the rest.
struct PartSizes {
  int64_t train, val, test;
};
PartSizes part_sizes(int64_t n, const TextCorpusOptions& o) {
  const auto count = [&](double f, const char* key) {
    const auto k = static_cast<int64_t>(std::llround(static_cast<double>(n) * f));
    if (f > 0 && k == 0) {
      throw DataError("text: the " + std::string(key) + " split gets no tokens (" + key + "_fraction " +
                      std::to_string(f) + " of " + std::to_string(n) + " tokens); raise " + key + "_fraction");
    }
    return k;
  };
  PartSizes p{0, count(o.val_fraction, "val"), count(o.test_fraction, "test")};
  p.train = n - p.val - p.test;
  if (p.train < 2) {
    throw DataError("text: the train split gets " + std::to_string(std::max<int64_t>(p.train, 0)) + " of " +
                    std::to_string(n) + " tokens, fewer than 2; lower val_fraction or test_fraction, or add text");
  }
  return p;
}

}  // namespace

std::string read_text_files(const std::vector<std::string>& files) {
  if (files.empty()) throw std::invalid_argument("text: no files given; list at least one plain-text file in files");
  std::string all;
  for (const auto& path : files) {
    all += read_one(path);
    if (all.back() != '\n') all += '\n';
  }
  return all;
}

TextCorpus::TextCorpus(const TextCorpusOptions& options)
    : options_(options), codec_(TextCodec::byte_level()), stream_(std::make_shared<TokenStream>()) {
  check_options(options);
  const std::string text = read_text_files(options.files);
  const TextLevel level = parse_text_level(options.level);

  PartSizes parts{};
  if (level == TextLevel::kByte) {
    stream_->ids.reserve(text.size());
    for (const char c : text) stream_->ids.push_back(static_cast<unsigned char>(c));
    stream_->bytes.assign(text.size(), 1);
    parts = part_sizes(stream_->size(), options);
  } else {
    WordPieces words = split_words(text);
    if (words.pieces.empty()) throw DataError(options.files.front() + ": no words in the text files");
    parts = part_sizes(static_cast<int64_t>(words.pieces.size()), options);
    // The vocabulary sees the train part only, so val and test words it lacks are <unk>.
    const std::vector<std::string> train_pieces(words.pieces.begin(), words.pieces.begin() + parts.train);
    codec_ = TextCodec::word_level(train_pieces, options.max_vocab, options.min_count);
    stream_->ids.reserve(words.pieces.size());
    for (const auto& p : words.pieces) stream_->ids.push_back(static_cast<int32_t>(codec_.word_id(p)));
    stream_->bytes = std::move(words.bytes);
  }
  train_ = {0, parts.train};
  val_ = {parts.train, parts.train + parts.val};
  test_ = {val_.end, val_.end + parts.test};

  train_split_ = make_split("train", options.stride > 0 ? options.stride : options.seq_len);
  if (parts.val > 0) val_split_ = make_split("val", options.seq_len);
  if (parts.test > 0) test_split_ = make_split("test", options.seq_len);

  spec_.task = Task::kLanguageModel;
  spec_.num_classes = 0;
  spec_.vocab_size = codec_.vocab_size();
  spec_.max_length = options.seq_len;
  spec_.pad_id = codec_.pad_id();
}

std::shared_ptr<const TextSplit> TextCorpus::make_split(const std::string& name, int64_t stride) const {
  const Range r = range(name);
  // Val and test take the token before their part as context, so each of their tokens is a target.
  const int64_t first = name == "train" ? r.begin : r.begin - 1;
  return std::make_shared<TextSplit>(stream_, first, r.end, options_.seq_len, stride, codec_.pad_id());
}

std::vector<std::string> TextCorpus::split_names() const {
  std::vector<std::string> names = {"train"};
  if (val_.end > val_.begin) names.push_back("val");
  if (test_.end > test_.begin) names.push_back("test");
  return names;
}

TextCorpus::Range TextCorpus::range(const std::string& name) const {
  if (name == "train") return train_;
  if (name == "val") return val_;
  if (name == "test") return test_;
  throw DataError("text: no split '" + name + "' (valid: train, val, test)");
}

int64_t TextCorpus::split_bytes(const std::string& name) const {
  const Range r = range(name);
  int64_t total = 0;
  for (int64_t i = r.begin; i < r.end; ++i) total += stream_->bytes[i];
  return total;
}

std::shared_ptr<const Split> TextCorpus::split(const std::string& name) const {
  const auto s = name == "train" ? train_split_ : name == "val" ? val_split_ : name == "test" ? test_split_ : nullptr;
  if (s) return s;
  std::string valid;
  for (const auto& n : split_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw DataError("text: no split '" + name + "' (valid: " + valid + ")");
}

TokenView TextCorpus::token_view(const Batch& batch, int64_t index) const {
  TokenView view;
  for (int64_t id : real_token_ids(batch, index)) {
    const std::string text = codec_.decode({id});
    view.labels.push_back(text == "\n" ? "\\n" : text == " " ? "\u2423" : text);
  }
  return view;
}

}  // namespace attnlab::datasets
