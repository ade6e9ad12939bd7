// The `text` corpus: windows and shifted targets against a plain reference, every val/test token
// counted once (target_bytes sum to the split's bytes at byte and word level), the word vocabulary
// deterministic and built from train only, the spec, and errors that name the file or the key.
#include "datasets/text_corpus.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

using attnlab::testing::TempDir;
using attnlab::testing::write_file;
using attnlab::testing::error_of;

std::vector<int64_t> all_indices(const Split& s) {
  std::vector<int64_t> i(s.size());
  std::iota(i.begin(), i.end(), 0);
  return i;
}

// 1,000 bytes of varied text.
std::string sample_text() {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "line " + std::to_string(i * 7 % 13) + (i % 5 == 4 ? ".\n" : " and ");
  return s;
}

TEST(TextCorpus, WindowsAndShiftedTargetsMatchAPlainReference) {
  TempDir dir;
  const std::string text = sample_text();
  TextCorpusOptions o;
  o.files = {write_file(dir, "a.txt", text)};
  o.seq_len = 16;
  o.val_fraction = 0.1;
  o.test_fraction = 0.1;
  TextCorpus corpus(o);
  const int64_t n = static_cast<int64_t>(text.size());  // ends in '\n': nothing added
  ASSERT_EQ(corpus.tokens().size(), n);
  const int64_t n_test = std::llround(n * 0.1), n_val = std::llround(n * 0.1), n_train = n - n_val - n_test;
  EXPECT_EQ(corpus.range("train").end, n_train);
  EXPECT_EQ(corpus.range("val").begin, n_train);
  EXPECT_EQ(corpus.range("test").end, n);

  for (const std::string name : {"train", "val", "test"}) {
    const auto split = corpus.split(name);
    const auto b = split->batch(all_indices(*split));
    // Reference: window k starts at `first` + 16 k and predicts the next byte at every position.
    const int64_t first = name == "train" ? 0 : corpus.range(name).begin - 1, end = corpus.range(name).end;
    ASSERT_EQ(split->size(), (end - 1 - first + 15) / 16) << name;
    for (int64_t k = 0; k < split->size(); ++k) {
      for (int64_t t = 0; t < 16; ++t) {
        const int64_t pos = first + 16 * k + t;
        if (pos + 1 < end) {
          EXPECT_EQ(b.inputs[k][t].item<int64_t>(), static_cast<unsigned char>(text[pos]));
          EXPECT_EQ(b.labels[k][t].item<int64_t>(), static_cast<unsigned char>(text[pos + 1]));
          EXPECT_EQ(b.target_bytes[k][t].item<int64_t>(), 1);
        } else {  // the short last window is padded, not dropped
          ASSERT_TRUE(b.padding_mask.defined());
          EXPECT_TRUE(b.padding_mask[k][t].item<bool>());
          EXPECT_EQ(b.inputs[k][t].item<int64_t>(), 256);
          EXPECT_EQ(b.labels[k][t].item<int64_t>(), kIgnoreTarget);
          EXPECT_EQ(b.target_bytes[k][t].item<int64_t>(), 0);
        }
      }
    }
  }
}

TEST(TextCorpus, TrainWindowsOverlapWithAStride) {
  TempDir dir;
  const std::string text = sample_text();
  TextCorpusOptions o;
  o.files = {write_file(dir, "a.txt", text)};
  o.seq_len = 16;
  o.stride = 4;
  TextCorpus corpus(o);
  const auto train = corpus.split("train");
  const auto b = train->batch({0, 1, 2});
  // Window 1 is window 0 moved by 4 bytes.
  EXPECT_TRUE(torch::equal(b.inputs[1].narrow(0, 0, 12), b.inputs[0].narrow(0, 4, 12)));
  EXPECT_TRUE(torch::equal(b.labels[2].narrow(0, 0, 8), b.labels[0].narrow(0, 8, 8)));
  EXPECT_FALSE(b.padding_mask.defined());  // no short window chosen
  // Val windows never overlap, whatever the stride.
  const auto val = corpus.split("val");
  EXPECT_EQ(val->size(), (corpus.range("val").end - corpus.range("val").begin + 15) / 16);
}

int64_t target_bytes_of(const Split& s) { return s.batch(all_indices(s)).target_bytes.sum().item<int64_t>(); }

TEST(TextCorpus, TargetBytesSumToTheSplitBytesAtByteLevel) {
  TempDir dir;
  const std::string a = sample_text(), b = "no newline at the end";
  TextCorpusOptions o;
  o.files = {write_file(dir, "a.txt", a), write_file(dir, "b.txt", b)};
  o.seq_len = 24;
  TextCorpus corpus(o);
  // b gets a newline so the files do not run together.
  EXPECT_EQ(corpus.split_bytes("train") + corpus.split_bytes("val") + corpus.split_bytes("test"),
            static_cast<int64_t>(a.size() + b.size() + 1));
  EXPECT_EQ(target_bytes_of(*corpus.split("val")), corpus.split_bytes("val"));
  EXPECT_EQ(target_bytes_of(*corpus.split("test")), corpus.split_bytes("test"));
  EXPECT_EQ(target_bytes_of(*corpus.split("train")), corpus.split_bytes("train") - 1);  // byte 0 is no target
}

TEST(TextCorpus, TargetBytesSumToTheSplitBytesAtWordLevel) {
  TempDir dir;
  std::string text = "  indented start\n";
  for (int i = 0; i < 60; ++i) text += "word" + std::to_string(i % 9) + (i % 4 ? "  " : "\t\n") + (i % 7 ? "" : "\n");
  text += "end\n";
  TextCorpusOptions o;
  o.files = {write_file(dir, "w.txt", text)};
  o.level = "word";
  o.seq_len = 8;
  o.val_fraction = 0.2;
  o.test_fraction = 0.2;
  TextCorpus corpus(o);
  EXPECT_EQ(corpus.split_bytes("train") + corpus.split_bytes("val") + corpus.split_bytes("test"),
            static_cast<int64_t>(text.size()));
  EXPECT_EQ(target_bytes_of(*corpus.split("val")), corpus.split_bytes("val"));
  EXPECT_EQ(target_bytes_of(*corpus.split("test")), corpus.split_bytes("test"));
  const auto& t = corpus.tokens();
  EXPECT_EQ(target_bytes_of(*corpus.split("train")), corpus.split_bytes("train") - t.bytes[0]);
  // "  indented " is the first token's 11 bytes: leading spaces + word + separator.
  EXPECT_EQ(t.bytes[0], 11);
  EXPECT_EQ(corpus.codec().token(t.ids[0]), "indented");
  EXPECT_EQ(t.ids[2], TextCodec::kWordNewline);
}

TEST(TextCorpus, WordVocabularyIsDeterministicAndTrainOnly) {
  TempDir dir;
  // 20 tokens; the last 5 ("zebra" x4 and a newline) are the test part, never seen in train.
  const std::string text = "b a b a c b a d d d\nd e e\nzebra zebra zebra zebra\n";
  TextCorpusOptions o;
  o.files = {write_file(dir, "v.txt", text)};
  o.level = "word";
  o.seq_len = 4;
  o.val_fraction = 0.0;
  o.test_fraction = 0.25;
  TextCorpus corpus(o);
  const auto& c = corpus.codec();
  EXPECT_EQ(c.token(0), "<pad>");
  EXPECT_EQ(c.token(1), "<unk>");
  EXPECT_EQ(c.token(2), "\n");
  // Train counts: d 4, a 3, b 3, e 2, c 1 -> by count, ties by string.
  ASSERT_EQ(c.vocab_size(), 8);
  EXPECT_EQ(c.token(3), "d");
  EXPECT_EQ(c.token(4), "a");
  EXPECT_EQ(c.token(5), "b");
  EXPECT_EQ(c.token(6), "e");
  EXPECT_EQ(c.token(7), "c");
  EXPECT_EQ(c.word_id("zebra"), c.unk_id());
  EXPECT_EQ(corpus.split_names(), (std::vector<std::string>{"train", "test"}));
  EXPECT_EQ(corpus.spec().vocab_size, 8);

  // The same files give the same ids; min_count and max_vocab cut the rare end.
  TextCorpus again(o);
  EXPECT_EQ(again.tokens().ids, corpus.tokens().ids);
  o.min_count = 3;
  EXPECT_EQ(TextCorpus(o).codec().vocab_size(), 6);  // d, a, b
  o.min_count = 1;
  o.max_vocab = 5;
  const TextCorpus capped(o);
  EXPECT_EQ(capped.codec().vocab_size(), 5);  // d, a
  EXPECT_EQ(capped.codec().word_id("b"), capped.codec().unk_id());
}

TEST(TextCorpus, CodecRoundTrips) {
  const auto bytes = TextCodec::byte_level();
  const std::string s = "h\xC3\xA9llo\n\tw\x01rld";
  EXPECT_EQ(bytes.decode(bytes.encode(s).ids), s);
  EXPECT_EQ(bytes.vocab_size(), 257);
  EXPECT_EQ(bytes.decode({104, 256, 105}), "hi");  // pad decodes to nothing

  const auto words = TextCodec::word_level(split_words("the cat sat\non the mat\n").pieces, 0, 1);
  const auto e = words.encode("the  cat\n\tsat dog\n");
  EXPECT_EQ(words.decode(e.ids), "the cat\nsat <unk>\n");
  EXPECT_EQ(std::accumulate(e.bytes.begin(), e.bytes.end(), int64_t{0}), 18);
  EXPECT_EQ(words.continuation("on the", words.encode("mat").ids), " mat");
  EXPECT_EQ(words.continuation("on the ", words.encode("mat").ids), "mat");
  EXPECT_EQ(words.continuation("on the", words.encode("\nmat").ids), "\nmat");
  EXPECT_THROW(words.decode({99}), std::out_of_range);
}

TEST(TextCorpus, SpecIsALanguageModel) {
  TempDir dir;
  TextCorpusOptions o;
  o.files = {write_file(dir, "a.txt", sample_text())};
  o.seq_len = 32;
  const auto spec = TextCorpus(o).spec();
  EXPECT_EQ(spec.task, Task::kLanguageModel);
  EXPECT_EQ(spec.vocab_size, 257);
  EXPECT_EQ(spec.pad_id, 256);
  EXPECT_EQ(spec.max_length, 32);
  EXPECT_EQ(spec.num_classes, 0);
}

TEST(TextCorpus, FileErrorsNameTheFile) {
  TempDir dir;
  TextCorpusOptions o;
  o.files = {write_file(dir, "ok.txt", sample_text()), dir / "missing.txt"};
  EXPECT_EQ(error_of([&] { TextCorpus{o}; }), dir / "missing.txt" + ": text file not found");
  o.files = {write_file(dir, "empty.txt", "")};
  EXPECT_EQ(error_of([&] { TextCorpus{o}; }), dir / "empty.txt" + ": empty text file");
  o.files = {dir.path()};
  EXPECT_EQ(error_of([&] { TextCorpus{o}; }), dir.path() + ": cannot read text file (it is a directory)");
  o.files = {};
  EXPECT_NE(error_of([&] { TextCorpus{o}; }).find("no files given"), std::string::npos);
  EXPECT_THROW(TextCorpus{o}, std::invalid_argument);
  o.files = {dir / "missing.txt"};
  EXPECT_THROW(TextCorpus{o}, DataError);
}

TEST(TextCorpus, SplitsWithoutTokensNameTheFractionToRaise) {
  TempDir dir;
  TextCorpusOptions o;
  o.files = {write_file(dir, "short.txt", "just forty bytes of text, not much more\n")};
  o.val_fraction = 0.001;
  EXPECT_EQ(error_of([&] { TextCorpus{o}; }),
            "text: the val split gets no tokens (val_fraction 0.001000 of 40 tokens); raise val_fraction");
  o.val_fraction = 0.1;
  o.test_fraction = 0.01;
  EXPECT_NE(error_of([&] { TextCorpus{o}; }).find("raise test_fraction"), std::string::npos);
  o.level = "word";
  o.test_fraction = 0.85;  // 8 words and a newline: train keeps 0
  EXPECT_NE(error_of([&] { TextCorpus{o}; }).find("the train split gets 0 of 9 tokens"), std::string::npos);
  o.level = "bytes";
  EXPECT_NE(error_of([&] { TextCorpus{o}; }).find("level must be byte or word"), std::string::npos);
  o.level = "byte";
  o.test_fraction = 0.1;
  o.stride = 200;
  EXPECT_NE(error_of([&] { TextCorpus{o}; }).find("stride must be in 0..seq_len"), std::string::npos);
}

TEST(TextCorpus, UnknownSplitNamesTheValidOnes) {
  TempDir dir;
  TextCorpusOptions o;
  o.files = {write_file(dir, "a.txt", sample_text())};
  o.test_fraction = 0;
  const TextCorpus corpus(o);
  EXPECT_EQ(error_of([&] { corpus.split("test"); }), "text: no split 'test' (valid: train, val)");
}

}  // namespace
}  // namespace attnlab::datasets
