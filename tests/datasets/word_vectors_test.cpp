// Pretrained word vectors from a word2vec/fastText text file: with and without the "COUNT DIM"
// header, rows in vocabulary order, seeded N(0, 0.1^2) rows for missing words, a zero pad row,
// coverage counts, and a line of the wrong width named by file:line.
#include "datasets/word_vectors.h"
#include "datasets/dataset.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <functional>
#include <string>

namespace attnlab::datasets {
namespace {

using attnlab::testing::TempDir;
using attnlab::testing::write_file;
using attnlab::testing::error_of;

// <pad> <unk> good bad meh
Vocabulary vocab() { return Vocabulary::build({{"good", "good", "good", "bad", "bad", "meh"}}, {}); }

TEST(WordVectors, HeaderAndRowsInVocabularyOrder) {
  TempDir dir;
  // fastText style: header, trailing spaces, a word we do not have, a repeated word (first wins).
  const std::string path = write_file(dir, "v.vec", "4 3\nbad 0.5 -1 2e-1 \nother 9 9 9\ngood 1 2 3 \nbad 7 7 7\n");
  const auto v = read_word_vectors(path, vocab(), 0);
  EXPECT_EQ(v.dim, 3);
  EXPECT_EQ(v.found, 2);
  EXPECT_EQ(v.words, 3);
  ASSERT_EQ(v.matrix.sizes(), (torch::IntArrayRef{5, 3}));
  EXPECT_TRUE(v.matrix[0].eq(0).all().item<bool>());                                   // <pad>
  EXPECT_TRUE(torch::equal(v.matrix[2], torch::tensor({1.f, 2.f, 3.f})));              // good
  EXPECT_TRUE(torch::equal(v.matrix[3], torch::tensor({0.5f, -1.f, 0.2f})));          // bad
}

TEST(WordVectors, NoHeaderGloveStyle) {
  TempDir dir;
  const std::string path = write_file(dir, "glove.txt", "good 1 2\nmeh 3 4\n");
  const auto v = read_word_vectors(path, vocab(), 0);
  EXPECT_EQ(v.dim, 2);
  EXPECT_EQ(v.found, 2);
  EXPECT_TRUE(torch::equal(v.matrix[4], torch::tensor({3.f, 4.f})));
}

TEST(WordVectors, MissingWordsGetSeededSmallRandomRows) {
  TempDir dir;
  const std::string path = write_file(dir, "v.vec", "good 1 2 3 4 5 6 7 8\n");
  const auto a = read_word_vectors(path, vocab(), 3);
  const auto b = read_word_vectors(path, vocab(), 3);
  const auto c = read_word_vectors(path, vocab(), 4);
  EXPECT_TRUE(torch::equal(a.matrix, b.matrix));
  EXPECT_FALSE(torch::equal(a.matrix, c.matrix));
  const auto missing = torch::cat({a.matrix[1], a.matrix[3], a.matrix[4]});  // <unk>, bad, meh
  EXPECT_TRUE(missing.ne(0).all().item<bool>());
  EXPECT_LT(missing.abs().max().item<float>(), 0.5f);  // 5 sigma of N(0, 0.1^2)
  EXPECT_TRUE(a.matrix[0].eq(0).all().item<bool>());
}

TEST(WordVectors, WrongWidthAndBadNumbersNameTheLine) {
  TempDir dir;
  const std::string header = write_file(dir, "h.vec", "3 4\ngood 1 2 3 4\nbad 1 2 3\n");
  EXPECT_EQ(error_of([&] { read_word_vectors(header, vocab(), 0); }),
            header + ":3: expected 4 numbers after the word (the header says 4), got 3");
  const std::string bare = write_file(dir, "b.vec", "x 1 2\n\ny 1 2 3\n");
  EXPECT_EQ(error_of([&] { read_word_vectors(bare, vocab(), 0); }),
            bare + ":3: expected 2 numbers after the word (the first vector has 2), got 3");
  const std::string nan = write_file(dir, "n.vec", "good 1 abc\n");
  EXPECT_EQ(error_of([&] { read_word_vectors(nan, vocab(), 0); }), nan + ":1: value 2 ('abc') is not a number");
  EXPECT_EQ(error_of([&] { read_word_vectors(dir / "none.vec", vocab(), 0); }),
            (dir / "none.vec") + ": embeddings file not found");
  const std::string empty = write_file(dir, "e.vec", "0 300\n");
  EXPECT_EQ(error_of([&] { read_word_vectors(empty, vocab(), 0); }), empty + ": no vectors");
}

}  // namespace
}  // namespace attnlab::datasets
