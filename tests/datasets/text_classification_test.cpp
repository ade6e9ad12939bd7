// The text_classification dataset end to end on small generated files: label ids (given order,
// sorted, numeric), the vocabulary from train only, OOV as <unk> or dropped, max_length and
// min_tokens, the stratified val carve-out, batches padded to the longest example, pretrained
// vectors in the spec, and unknown labels named by file:line or skipped and counted.
#include "datasets/text_classification.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace attnlab::datasets {
namespace {

using attnlab::testing::TempDir;
using attnlab::testing::write_file;
using attnlab::testing::error_of;
using Ids = std::vector<int64_t>;

// Train words by count: good 3, film 3, bad 2, plot 1, fun 1 -> ids 2 film, 3 good, 4 bad, 5 fun, 6 plot.
struct Files {
  TempDir dir;
  std::string train, val, test;
  Files() {
    train = write_file(dir, "train.csv",
                  "text,label\n"
                  "good film,pos\n"
                  "\"Good, good film\",pos\n"
                  "bad film plot,neg\n"
                  "bad fun,neg\n");
    val = write_file(dir, "val.tsv", "text\tlabel\nunseen good words\tpos\n");
    test = write_file(dir, "test.jsonl", "{\"text\": \"bad unseen\", \"label\": \"neg\"}\n");
  }
  TextClassificationOptions options() const {
    TextClassificationOptions o;
    o.train = train;
    o.val = val;
    o.test = test;
    o.tokenizer.punctuation = "strip";
    return o;
  }
};

TEST(TextClassification, VocabularyFromTrainAndOovAsUnk) {
  Files f;
  const TextClassificationDataset d(f.options());
  EXPECT_EQ(d.vocabulary().words(), (std::vector<std::string>{"<pad>", "<unk>", "film", "good", "bad", "fun", "plot"}));
  EXPECT_EQ(d.label_names(), (std::vector<std::string>{"neg", "pos"}));  // sorted
  EXPECT_EQ(d.split_names(), (std::vector<std::string>{"train", "val", "test"}));
  const auto train = d.text_split("train");
  ASSERT_EQ(train->size(), 4);
  EXPECT_EQ(train->ids(1), (Ids{3, 3, 2}));
  EXPECT_EQ(train->label(1), 1);
  EXPECT_EQ(train->label(2), 0);
  EXPECT_EQ(d.text_split("val")->ids(0), (Ids{1, 3, 1}));
  EXPECT_EQ(d.text_split("test")->ids(0), (Ids{4, 1}));
  const auto spec = d.spec();
  EXPECT_EQ(spec.num_classes, 2);
  EXPECT_EQ(spec.vocab_size, 7);
  EXPECT_EQ(spec.max_length, 3);
  EXPECT_FALSE(spec.pretrained_embeddings.defined());
}

TEST(TextClassification, OovDropReproducesTheReferencePipeline) {
  Files f;
  auto o = f.options();
  o.oov = "drop";
  write_file(f.dir, "test.jsonl", "{\"text\": \"bad unseen\", \"label\": \"neg\"}\n{\"text\": \"all unseen\", \"label\": \"pos\"}\n");
  const TextClassificationDataset d(o);
  EXPECT_EQ(d.text_split("val")->ids(0), (Ids{3}));
  ASSERT_EQ(d.text_split("test")->size(), 1);  // the all-unseen example has no word left
  EXPECT_EQ(d.text_split("test")->ids(0), (Ids{4}));
  ASSERT_EQ(d.notes().size(), 1u);
  EXPECT_EQ(d.notes()[0], f.test + ": left out 1 example whose every word is out of the vocabulary (oov: drop)");
}

TEST(TextClassification, LabelOrderGivenOrNumeric) {
  Files f;
  auto o = f.options();
  o.labels = {"pos", "neg"};
  EXPECT_EQ(TextClassificationDataset(o).text_split("train")->label(0), 0);
  TempDir dir;
  o = TextClassificationOptions();
  o.train = write_file(dir, "t.jsonl",
                  "{\"text\": \"a\", \"label\": 10}\n{\"text\": \"b\", \"label\": 2}\n{\"text\": \"c\", \"label\": 2}\n"
                  "{\"text\": \"d\", \"label\": 10}\n");
  o.val = o.train;
  const TextClassificationDataset d(o);
  EXPECT_EQ(d.label_names(), (std::vector<std::string>{"2", "10"}));  // numeric, not "10" < "2"
  EXPECT_EQ(d.text_split("train")->label(0), 1);
  o.labels = {"pos", "pos"};
  EXPECT_EQ(error_of([&] { TextClassificationDataset{o}; }), "labels: 'pos' is listed twice");
}

TEST(TextClassification, UnknownLabelNamesFileAndLineOrIsSkipped) {
  Files f;
  write_file(f.dir, "val.tsv", "text\tlabel\ngood\tpos\nok\tneutral\nbad\tneg\n");
  auto o = f.options();
  EXPECT_EQ(error_of([&] { TextClassificationDataset{o}; }),
            f.val + ":3: label 'neutral' is not among the training labels (neg, pos)");
  o.labels = {"neg", "pos"};
  EXPECT_EQ(error_of([&] { TextClassificationDataset{o}; }), f.val + ":3: label 'neutral' is not in data.labels (neg, pos)");
  o.table.skip_bad_rows = true;
  const TextClassificationDataset d(o);
  EXPECT_EQ(d.text_split("val")->size(), 2);
  ASSERT_EQ(d.notes().size(), 1u);
  EXPECT_EQ(d.notes()[0], f.val + ": skipped 1 bad row (first: " + f.val +
                              ":3: label 'neutral' is not in data.labels (neg, pos))");
}

TEST(TextClassification, MaxLengthTruncatesAndMinTokensFilters) {
  Files f;
  auto o = f.options();
  o.max_length = 2;
  o.min_tokens = 3;  // inclusive: keeps "Good, good film" and "bad film plot" (3 tokens)
  o.test = "";
  const TextClassificationDataset d(o);
  EXPECT_EQ(d.text_split("train")->size(), 2);
  EXPECT_EQ(d.text_split("val")->size(), 1);  // "unseen good words": 3 tokens
  EXPECT_EQ(d.spec().max_length, 2);
  EXPECT_EQ(d.text_split("train")->ids(0), (Ids{3, 3}));  // "good good film" cut after 2
  ASSERT_EQ(d.notes().size(), 1u);
  EXPECT_EQ(d.notes()[0], f.train + ": left out 2 examples with fewer than min_tokens 3 tokens");
}

TEST(TextClassification, StratifiedValCarveOutIsSeededAndDisjoint) {
  TempDir dir;
  std::string csv = "text,label\n";
  for (int i = 0; i < 40; ++i) csv += "w" + std::to_string(i) + " x," + (i % 4 == 0 ? "a" : "b") + "\n";
  TextClassificationOptions o;
  o.train = write_file(dir, "t.csv", csv);
  o.val_fraction = 0.2;
  o.seed = 7;
  const TextClassificationDataset d(o), same(o);
  const auto val = d.text_split("val");
  ASSERT_EQ(val->size(), 8);  // 20% of each class: 2 of the 10 a's, 6 of the 30 b's
  int64_t a = 0;
  for (int64_t i = 0; i < val->size(); ++i) a += val->label(i) == 0;
  EXPECT_EQ(a, 2);
  for (int64_t i = 0; i < val->size(); ++i) EXPECT_EQ(same.text_split("val")->ids(i), val->ids(i));
  // The vocabulary saw only the train part: the val examples' own words are <unk>.
  for (int64_t i = 0; i < val->size(); ++i) EXPECT_EQ(val->ids(i)[0], Vocabulary::kUnk);
  EXPECT_EQ(d.text_split("train")->size(), 32);
}

TEST(TextClassification, BatchesPadToTheLongestExample) {
  Files f;
  const TextClassificationDataset d(f.options());
  const auto b = d.split("train")->batch({0, 1, 3});
  EXPECT_TRUE(torch::equal(b.inputs, torch::tensor({3, 2, 0, 3, 3, 2, 4, 5, 0}, torch::kLong).view({3, 3})));
  EXPECT_TRUE(torch::equal(b.padding_mask, b.inputs.eq(0)));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({1, 1, 0}, torch::kLong)));
  EXPECT_FALSE(d.split("train")->batch({0, 3}).padding_mask.defined());  // nothing padded
  EXPECT_THROW(d.split("train")->batch({4}), std::out_of_range);
}

TEST(TextClassification, PretrainedVectorsReachTheSpec) {
  Files f;
  auto o = f.options();
  o.embeddings = write_file(f.dir, "v.vec", "2 2\ngood 1 2\nplot 3 4\n");
  const TextClassificationDataset d(o);
  const auto& m = d.spec().pretrained_embeddings;
  ASSERT_TRUE(m.defined());
  ASSERT_EQ(m.sizes(), (torch::IntArrayRef{7, 2}));
  EXPECT_TRUE(torch::equal(m[3], torch::tensor({1.f, 2.f})));
  EXPECT_TRUE(torch::equal(m[6], torch::tensor({3.f, 4.f})));
  ASSERT_EQ(d.notes().size(), 1u);
  EXPECT_EQ(d.notes()[0], "embeddings: 2 of 5 words found in " + o.embeddings + " (dim 2)");
}

TEST(TextClassification, UnlabelledTextsUseTheTrainVocabularyAndIgnoredLabels) {
  Files f;
  auto o = f.options();
  // A file with only the text column (labels, if a file has them, are not read).
  o.unlabelled = write_file(f.dir, "unlabelled.csv", "text\ngood plot twist\nbad\n\"fun, fun\"\n");
  o.val = "";
  o.val_fraction = 0.5;
  const TextClassificationDataset d(o);
  const auto names = d.split_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "unlabelled"), names.end());
  const auto u = d.text_split("unlabelled");
  ASSERT_EQ(u->size(), 3);
  const int64_t unk = Vocabulary::kUnk;
  EXPECT_EQ(u->ids(0)[2], unk);  // "twist" is not a training word
  EXPECT_EQ(u->label(0), kIgnoreTarget);
  // A texts-only file lacking the text column is still an error naming it.
  o.unlabelled = write_file(f.dir, "wrong.csv", "body\nsomething\n");
  EXPECT_NE(error_of([&] { TextClassificationDataset{o}; }).find("wrong.csv:1: no column 'text'"), std::string::npos);
}

TEST(TextClassification, OptionErrors) {
  Files f;
  auto o = f.options();
  o.train = f.dir / "missing.csv";
  EXPECT_EQ(error_of([&] { TextClassificationDataset{o}; }), (f.dir / "missing.csv") + ": file not found");
  o = f.options();
  o.oov = "skip";
  EXPECT_THROW(TextClassificationDataset{o}, std::invalid_argument);
  o = f.options();
  write_file(f.dir, "one.csv", "text,label\na,x\nb,x\n");
  o.train = f.dir / "one.csv";
  o.val = o.test = "";
  EXPECT_EQ(error_of([&] { TextClassificationDataset{o}; }),
            o.train + ": only one label ('x'); classification needs at least 2");
}

}  // namespace
}  // namespace attnlab::datasets
