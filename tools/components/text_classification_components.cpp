// Recipe name of the text-classification files dataset: `data: {name: text_classification,
// train: data/sst/train.tsv, ...}` (datasets/text_classification.h). Paths are used as given,
// relative to the working directory, like the `digits`, `listops` and `text` paths.
#include <cstdio>

#include "datasets/text_classification.h"
#include "framework/registry/components.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_text_classification_components() {
  config::Schema s(
      "text classification from CSV / TSV / JSONL files: a text and a label column, word tokens, a vocabulary "
      "of the train split, optional pretrained word vectors (word2vec/fastText text file)");
  s.add_string("train", "", "training file (.csv, .tsv or .jsonl)").make_required();
  s.add_string("val", "", "validation file (\"\": carve a stratified val_fraction out of train)");
  s.add_string("test", "", "test file (\"\": none; then set eval.test_split: \"\")");
  s.add_string("unlabelled", "", "texts without labels for semi_supervised.split: unlabelled (same text column; labels ignored)");
  s.add_float("val_fraction", 0.1, "fraction of each class of train held out as val when no val file is given")
      .greater_than(0).less_than(1);
  s.add_int("seed", 0, "seed of the val carve-out and of the random rows of words the embeddings file lacks")
      .at_least(0);
  s.add_string("format", "auto", "file format; auto: by extension (.csv, .tsv/.tab, .jsonl/.ndjson/.json)")
      .one_of({"auto", "csv", "tsv", "jsonl"});
  s.add_string("quoting", "auto", "CSV/TSV quoting; auto: RFC 4180 for CSV, none for TSV (quotes are text)")
      .one_of({"auto", "rfc4180", "none"});
  s.add_bool("header", true, "CSV/TSV: the first row names the columns (false: columns are 0-based indexes)");
  s.add_string("text_column", "text", "CSV/TSV: column name (or 0-based index without a header); JSONL: key");
  s.add_string("label_column", "label", "CSV/TSV: column name (or 0-based index without a header); JSONL: key");
  s.add("labels", config::Type::StringList, "[]",
        "label names in id order, e.g. [neg, pos] (ints as text); []: the train labels sorted (numerically if all are integers)");
  s.add_bool("lowercase", true, "lowercase ASCII letters");
  s.add_string("punctuation", "split", "ASCII punctuation: split (own tokens), strip (deleted), keep (part of words)")
      .one_of({"split", "strip", "keep"});
  s.add_string("digits_to", "", "replace every token holding a digit by this word (the papers: qqq; \"\": keep)");
  s.add_int("min_tokens", 1, "leave out examples of fewer tokens, inclusive (papers' 'length > 5' = 6), in every split")
      .at_least(1);
  s.add_int("max_length", 0, "truncate examples to their first max_length tokens (0: never)").at_least(0);
  s.add_int("min_frequency", 1, "train words seen fewer times are out of vocabulary").at_least(1);
  s.add_int("max_vocab", 0, "vocabulary size incl. <pad> and <unk> (0: no limit)").at_least(0);
  s.add_string("oov", "unk", "out-of-vocabulary words: unk (<unk>, id 1) or drop (removed, as the AT paper's code; pitfall P8)")
      .one_of({"unk", "drop"});
  s.add_string("embeddings", "", "word2vec/fastText text file of pretrained vectors (\"\": none); the model's embed width must equal its dim");
  s.add_string("on_bad_row", "error", "a malformed row or unknown label: error (stop, naming file:line) or skip (count them)")
      .one_of({"error", "skip"});
  registry::datasets().add("text_classification", s.doc(), s, [](const config::Section& c) {
    datasets::TextClassificationOptions o;
    o.train = c.get_string("train");
    o.val = c.get_string("val");
    o.test = c.get_string("test");
    o.unlabelled = c.get_string("unlabelled");
    o.val_fraction = c.get_float("val_fraction");
    o.seed = static_cast<uint64_t>(c.get_int("seed"));
    o.table.format = c.get_string("format");
    o.table.quoting = c.get_string("quoting");
    o.table.header = c.get_bool("header");
    o.table.text_column = c.get_string("text_column");
    o.table.label_column = c.get_string("label_column");
    o.table.skip_bad_rows = c.get_string("on_bad_row") == "skip";
    o.labels = c.get_string_list("labels");
    o.tokenizer.lowercase = c.get_bool("lowercase");
    o.tokenizer.punctuation = c.get_string("punctuation");
    o.tokenizer.digits_to = c.get_string("digits_to");
    o.min_tokens = c.get_int("min_tokens");
    o.max_length = c.get_int("max_length");
    o.vocabulary.min_frequency = c.get_int("min_frequency");
    o.vocabulary.max_vocab = c.get_int("max_vocab");
    o.oov = c.get_string("oov");
    o.embeddings = c.get_string("embeddings");
    auto dataset = std::make_shared<datasets::TextClassificationDataset>(o);
    for (const auto& note : dataset->notes()) std::printf("%s\n", note.c_str());
    std::fflush(stdout);
    return dataset;
  });
}

}  // namespace attnlab::tools
