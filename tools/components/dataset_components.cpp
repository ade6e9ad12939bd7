// Recipe names of the datasets: `data: {name: digits, patch_size: 2, ...}`.
#include "datasets/digits.h"
#include "datasets/listops.h"
#include "datasets/text_corpus.h"
#include "framework/registry/components.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_dataset_components() {
  config::Schema digits(
      "the 1,797 8x8 handwritten digits shipped by python3-sklearn, as patch tokens; stratified "
      "train/val/test splits");
  digits.add_string("path", "", "digits.csv.gz to read (\"\": find python3-sklearn's copy)");
  digits.add_int("patch_size", 2, "side of the square patches that become tokens: 1, 2, 4 or 8").at_least(1).at_most(8);
  digits.add_float("val_fraction", 0.15, "fraction of each class in the validation split").at_least(0).less_than(1);
  digits.add_float("test_fraction", 0.15, "fraction of each class in the test split").at_least(0).less_than(1);
  digits.add_int("seed", 0, "seed of the split (independent of the training seed)").at_least(0);
  registry::datasets().add("digits", digits.doc(), digits, [](const config::Section& s) {
    datasets::DigitsOptions o;
    o.path = s.get_string("path");
    o.patch_size = s.get_int("patch_size");
    o.val_fraction = s.get_float("val_fraction");
    o.test_fraction = s.get_float("test_fraction");
    o.seed = static_cast<uint64_t>(s.get_int("seed"));
    return std::make_shared<datasets::DigitsDataset>(o);
  });

  config::Schema listops(
      "Long Range Arena ListOps: nested MAX/MIN/MED/SM expressions over digits, 10 classes; generated "
      "deterministically, or read from LRA's released basic_{train,val,test}.tsv");
  listops.add_string("path", "", "directory with LRA's TSV files (\"\": generate)");
  listops.add_int("train_size", 2000, "generated training examples").at_least(1);
  listops.add_int("val_size", 200, "generated validation examples").at_least(1);
  listops.add_int("test_size", 200, "generated test examples").at_least(1);
  listops.add_int("max_depth", 10, "deepest nesting of the generator (LRA: 10)").at_least(1);
  listops.add_int("max_args", 10, "most arguments per operator (LRA: 10)").at_least(2);
  listops.add_int("min_length", 1, "shortest generated expression, in tokens (LRA: 501)").at_least(1);
  listops.add_int("max_length", 500, "longest generated expression, in tokens (LRA: 1999)").at_least(1);
  listops.add_int("max_sequence", 2000, "longest sequence accepted from a file").at_least(1);
  listops.add_int("seed", 0, "generator seed").at_least(0);
  registry::datasets().add("listops", listops.doc(), listops, [](const config::Section& s) {
    datasets::ListOpsDatasetOptions o;
    o.path = s.get_string("path");
    o.generator.train_size = s.get_int("train_size");
    o.generator.val_size = s.get_int("val_size");
    o.generator.test_size = s.get_int("test_size");
    o.generator.max_depth = s.get_int("max_depth");
    o.generator.max_args = s.get_int("max_args");
    o.generator.min_length = s.get_int("min_length");
    o.generator.max_length = s.get_int("max_length");
    o.generator.seed = static_cast<uint64_t>(s.get_int("seed"));
    o.max_length = s.get_int("max_sequence");
    return std::make_shared<datasets::ListOpsDataset>(o);
  });

  config::Schema text(
      "language-model corpus from plain-text files (byte or word tokens): contiguous train/val/test cuts "
      "of the token stream, windows of seq_len next-token targets");
  text.add("files", config::Type::StringList, std::nullopt,
           "plain-text files, read in this order and joined (train is cut from the start, test from the end)")
      .make_required();
  text.add_string("level", "byte", "byte: a token per byte (vocab 257 with pad); word: whitespace-separated "
                                   "words and newlines, vocabulary from train").one_of({"byte", "word"});
  text.add_int("seq_len", 128, "tokens per window (the model's context)").at_least(1);
  text.add_int("stride", 0, "tokens between the starts of train windows (0: seq_len, no overlap); at most seq_len").at_least(0);
  text.add_float("val_fraction", 0.05, "fraction of the tokens in the validation cut (0: none)").at_least(0).less_than(1);
  text.add_float("test_fraction", 0.05, "fraction of the tokens in the test cut, at the end (0: none)").at_least(0).less_than(1);
  text.add_int("max_vocab", 0, "word level: vocabulary size incl. <pad>, <unk> and newline (0: every train word)").at_least(0);
  text.add_int("min_count", 1, "word level: train words seen fewer times become <unk>").at_least(1);
  registry::datasets().add("text", text.doc(), text, [](const config::Section& s) {
    datasets::TextCorpusOptions o;
    o.files = s.get_string_list("files");
    o.level = s.get_string("level");
    o.seq_len = s.get_int("seq_len");
    o.stride = s.get_int("stride");
    o.val_fraction = s.get_float("val_fraction");
    o.test_fraction = s.get_float("test_fraction");
    o.max_vocab = s.get_int("max_vocab");
    o.min_count = s.get_int("min_count");
    return std::make_shared<datasets::TextCorpus>(o);
  });
}

}  // namespace attnlab::tools
