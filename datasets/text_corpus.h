// `text`: a language-model corpus from plain-text files (any text; the recipes use the licence
// texts Debian installs in /usr/share/common-licenses). The files are read in the order given and
// joined (a file not ending in '\n' gets one, so files never run together), then tokenised at byte
// or word level (text_codec.h). The token stream is cut into contiguous parts, train first, then
// val, then test: test gets round(N * test_fraction) tokens, val round(N * val_fraction), train the
// rest. At word level the vocabulary is built from the train part only.
// Examples are windows of seq_len + 1 tokens, inputs w[0:T] and labels w[1:T+1] (text_split.h):
// train windows start every `stride` tokens; val and test windows do not overlap and start one
// token before their part (the last token of the part before is context, never a target), so
// every val/test token is predicted exactly once and the target_bytes of a val/test split sum to
// the bytes of its part. Train's first token (the very first of the corpus) is never a target.
// Spec: task language_model, vocab_size of the codec, max_length = seq_len, pad_id, num_classes 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/readable_tokens.h"
#include "datasets/text_codec.h"
#include "datasets/text_split.h"

namespace attnlab::datasets {

struct TextCorpusOptions {
  std::vector<std::string> files;
  std::string level = "byte";  // byte | word
  int64_t seq_len = 128;       // T, tokens per window
  int64_t stride = 0;          // train windows; 0: seq_len (no overlap)
  double val_fraction = 0.05;  // 0: no val split
  double test_fraction = 0.05; // 0: no test split
  int64_t max_vocab = 0;       // word level: ids incl. <pad>, <unk>, newline (0: no limit)
  int64_t min_count = 1;       // word level: rarer train words are <unk>
};

// The files joined as described above. DataError "PATH: text file not found", "PATH: cannot read
// text file (...)", "PATH: empty text file"; std::invalid_argument when no file is given.
std::string read_text_files(const std::vector<std::string>& files);

class TextCorpus : public Dataset, public ReadableTokens {
 public:
  // Bad options throw std::invalid_argument; bad files or a split left without tokens DataError.
  explicit TextCorpus(const TextCorpusOptions& options);

  DataSpec spec() const override { return spec_; }
  // train, then val and test unless their fraction is 0.
  std::vector<std::string> split_names() const override;
  std::shared_ptr<const Split> split(const std::string& name) const override;

  // Encodes prompts and decodes generated ids the way the corpus was tokenised.
  const TextCodec& codec() const { return codec_; }
  TokenView token_view(const Batch& batch, int64_t index) const override;  // each id decoded
  const TokenStream& tokens() const { return *stream_; }
  // The tokens [begin, end) of the stream that a split owns, and the bytes they stand for.
  struct Range {
    int64_t begin = 0, end = 0;
  };
  Range range(const std::string& name) const;
  int64_t split_bytes(const std::string& name) const;
  const TextCorpusOptions& options() const { return options_; }

 private:
  std::shared_ptr<const TextSplit> make_split(const std::string& name, int64_t stride) const;

  TextCorpusOptions options_;
  TextCodec codec_;
  std::shared_ptr<TokenStream> stream_;
  Range train_, val_, test_;
  std::shared_ptr<const TextSplit> train_split_, val_split_, test_split_;
  DataSpec spec_;
};

}  // namespace attnlab::datasets
