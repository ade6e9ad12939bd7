// Text classification from CSV / TSV / JSONL files; see text_classification.h.
#include "datasets/text_classification.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "datasets/splits.h"
#include "datasets/word_vectors.h"

namespace attnlab::datasets {
namespace {

// The tokenised records of one file.
struct Document {
  int64_t line;
  std::vector<std::string> tokens;
  std::string label;
};

struct FileData {
  std::string path;
  std::vector<Document> docs;
  int64_t skipped = 0;        // bad rows, skipped
  std::string first_skipped;
  int64_t too_short = 0;      // left out by min_tokens
};

FileData read_file(const std::string& path, const TextClassificationOptions& o) {
  FileData f;
  f.path = path;
  TextRecords records = read_text_records(path, o.table);
  f.skipped = records.skipped;
  f.first_skipped = records.first_skipped;
  f.docs.reserve(records.records.size());
  for (auto& r : records.records) f.docs.push_back({r.line, tokenize(r.text, o.tokenizer), std::move(r.label)});
  return f;
}

bool integer_text(const std::string& s, long long& v) {
  try {
    size_t used = 0;
    v = std::stoll(s, &used);
    return used == s.size();
  } catch (const std::exception&) {
    return false;
  }
}

// Label names in id order: the recipe's list, or the sorted train labels.
std::vector<std::string> label_order(const TextClassificationOptions& o, const FileData& train) {
  std::vector<std::string> names = o.labels;
  if (!names.empty()) {
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) throw std::invalid_argument("labels: '" + *dup + "' is listed twice");
    return names;
  }
  for (const auto& d : train.docs) names.push_back(d.label);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  bool all_integers = true;
  long long v = 0;
  for (const auto& n : names) all_integers = all_integers && integer_text(n, v);
  if (all_integers) {  // "2" before "10"
    std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
      long long x = 0, y = 0;
      integer_text(a, x);
      integer_text(b, y);
      return x < y;
    });
  }
  return names;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < 20; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 20) s += ", ... (" + std::to_string(names.size()) + " in all)";
  return s;
}

// Label ids of a file's documents; an unknown label is a bad row (thrown or skipped). Then the
// min_tokens filter. Leaves `ids` aligned with f.docs.
std::vector<int64_t> map_labels(FileData& f, const std::map<std::string, int64_t>& ids,
                                const std::vector<std::string>& names, bool from_list,
                                const TextClassificationOptions& o) {
  std::vector<Document> kept;
  std::vector<int64_t> labels;
  for (auto& d : f.docs) {
    const auto it = ids.find(d.label);
    if (it == ids.end()) {
      const std::string message = f.path + ":" + std::to_string(d.line) + ": label '" + d.label + "' is not " +
                                  (from_list ? "in data.labels" : "among the training labels") + " (" + joined(names) +
                                  ")";
      if (!o.table.skip_bad_rows) throw DataError(message);
      if (f.skipped++ == 0) f.first_skipped = message;
      continue;
    }
    if (static_cast<int64_t>(d.tokens.size()) < o.min_tokens) {
      ++f.too_short;
      continue;
    }
    labels.push_back(it->second);
    kept.push_back(std::move(d));
  }
  f.docs = std::move(kept);
  return labels;
}

struct Encoded {
  std::vector<int64_t> ids, offsets{0}, labels;
  int64_t emptied = 0;  // left with no word by oov: drop
};

Encoded encode(const std::vector<const Document*>& docs, const std::vector<int64_t>& labels, const Vocabulary& vocab,
               const TextClassificationOptions& o) {
  Encoded e;
  const bool drop = o.oov == "drop";
  for (size_t i = 0; i < docs.size(); ++i) {
    const size_t start = e.ids.size();
    for (const auto& w : docs[i]->tokens) {
      if (o.max_length > 0 && static_cast<int64_t>(e.ids.size() - start) >= o.max_length) break;
      const int64_t id = vocab.find(w);
      if (id < 0 && drop) continue;
      e.ids.push_back(id < 0 ? Vocabulary::kUnk : id);
    }
    if (e.ids.size() == start) {  // only possible with drop (min_tokens >= 1 keeps empty texts out)
      ++e.emptied;
      continue;
    }
    e.offsets.push_back(static_cast<int64_t>(e.ids.size()));
    e.labels.push_back(labels[i]);
  }
  return e;
}

}  // namespace

TextClassificationSplit::TextClassificationSplit(std::vector<int64_t> ids, std::vector<int64_t> offsets,
                                                 std::vector<int64_t> labels)
    : ids_(std::move(ids)), offsets_(std::move(offsets)), labels_(std::move(labels)) {
  TORCH_INTERNAL_ASSERT(offsets_.size() == labels_.size() + 1);
}

std::vector<int64_t> TextClassificationSplit::ids(int64_t i) const {
  return {ids_.begin() + offsets_[i], ids_.begin() + offsets_[i + 1]};
}

Batch TextClassificationSplit::batch(const std::vector<int64_t>& indices) const {
  int64_t longest = 0, shortest = -1;
  for (const int64_t i : indices) {
    if (i < 0 || i >= size()) {
      throw std::out_of_range("text_classification: example " + std::to_string(i) + " of " + std::to_string(size()));
    }
    longest = std::max(longest, length(i));
    shortest = shortest < 0 ? length(i) : std::min(shortest, length(i));
  }
  const auto b = static_cast<int64_t>(indices.size());
  Batch out;
  out.inputs = torch::full({b, longest}, Vocabulary::kPad, torch::kLong);  // (B, T)
  out.labels = torch::empty({b}, torch::kLong);                           // (B)
  auto* inputs = out.inputs.data_ptr<int64_t>();
  auto* labels = out.labels.data_ptr<int64_t>();
  for (int64_t row = 0; row < b; ++row) {
    const int64_t i = indices[static_cast<size_t>(row)];
    std::copy(ids_.begin() + offsets_[i], ids_.begin() + offsets_[i + 1], inputs + row * longest);
    labels[row] = labels_[static_cast<size_t>(i)];
  }
  if (shortest < longest) out.padding_mask = out.inputs.eq(Vocabulary::kPad);  // (B, T); no word has id 0
  return out;
}

TextClassificationDataset::TextClassificationDataset(const TextClassificationOptions& o) {
  if (o.train.empty()) throw std::invalid_argument("train: a training file is required");
  if (o.oov != "unk" && o.oov != "drop") throw std::invalid_argument("oov: '" + o.oov + "' is not one of: unk, drop");
  if (o.min_tokens < 1) throw std::invalid_argument("min_tokens must be at least 1");
  if (o.max_length < 0) throw std::invalid_argument("max_length must be 0 (no limit) or positive");
  if (o.val.empty() && !(o.val_fraction > 0 && o.val_fraction < 1)) {
    throw std::invalid_argument("val_fraction must be in (0, 1) when no val file is given");
  }
  tokenize("", o.tokenizer);  // checks the tokenizer's options before any file is read

  FileData train = read_file(o.train, o);
  std::vector<FileData> others;  // val (if a file), test
  if (!o.val.empty()) others.push_back(read_file(o.val, o));
  if (!o.test.empty()) others.push_back(read_file(o.test, o));
  FileData unlabelled;
  if (!o.unlabelled.empty()) {
    TextClassificationOptions texts_only = o;
    texts_only.table.label_column = "";
    unlabelled = read_file(o.unlabelled, texts_only);
  }

  label_names_ = label_order(o, train);
  std::map<std::string, int64_t> label_ids;
  for (size_t i = 0; i < label_names_.size(); ++i) label_ids[label_names_[i]] = static_cast<int64_t>(i);
  const bool from_list = !o.labels.empty();
  std::vector<int64_t> train_labels = map_labels(train, label_ids, label_names_, from_list, o);
  std::vector<std::vector<int64_t>> other_labels;
  for (auto& f : others) other_labels.push_back(map_labels(f, label_ids, label_names_, from_list, o));
  if (label_names_.size() < 2) {
    throw DataError(o.train + ": only one label ('" + joined(label_names_) + "'); classification needs at least 2");
  }
  if (train.docs.empty()) {
    throw DataError(o.train + ": no example has min_tokens " + std::to_string(o.min_tokens) + " or more tokens");
  }

  // The parts: train (maybe minus a carved-out val), val, test, as documents and labels.
  struct Part {
    std::string name, path;
    std::vector<const Document*> docs;
    std::vector<int64_t> labels;
  };
  std::vector<Part> parts;
  if (o.val.empty()) {
    const SplitIndices idx = stratified_split(train_labels, o.val_fraction, 0.0, o.seed);
    if (idx.val.empty()) {
      throw DataError(o.train + ": val_fraction " + std::to_string(o.val_fraction) + " of " +
                      std::to_string(train.docs.size()) + " examples leaves no validation example; raise it or give val");
    }
    Part tr{"train", o.train, {}, {}}, va{"val", o.train + " (val_fraction " + std::to_string(o.val_fraction) + ")", {}, {}};
    for (const int64_t i : idx.train) {
      tr.docs.push_back(&train.docs[i]);
      tr.labels.push_back(train_labels[i]);
    }
    for (const int64_t i : idx.val) {
      va.docs.push_back(&train.docs[i]);
      va.labels.push_back(train_labels[i]);
    }
    parts.push_back(std::move(tr));
    parts.push_back(std::move(va));
  } else {
    Part tr{"train", o.train, {}, train_labels};
    for (const auto& d : train.docs) tr.docs.push_back(&d);
    parts.push_back(std::move(tr));
  }
  for (size_t k = 0; k < others.size(); ++k) {
    const bool is_val = !o.val.empty() && k == 0;
    Part p{is_val ? "val" : "test", others[k].path, {}, other_labels[k]};
    for (const auto& d : others[k].docs) p.docs.push_back(&d);
    parts.push_back(std::move(p));
  }
  if (!o.unlabelled.empty()) {
    Part p{"unlabelled", o.unlabelled, {}, {}};
    for (const auto& d : unlabelled.docs) {
      if (static_cast<int64_t>(d.tokens.size()) < o.min_tokens) {
        ++unlabelled.too_short;
        continue;
      }
      p.docs.push_back(&d);
      p.labels.push_back(kIgnoreTarget);
    }
    parts.push_back(std::move(p));
  }

  // The vocabulary sees the training part only.
  std::vector<std::vector<std::string>> train_tokens;
  train_tokens.reserve(parts[0].docs.size());
  for (const Document* d : parts[0].docs) train_tokens.push_back(d->tokens);
  vocab_ = Vocabulary::build(train_tokens, o.vocabulary);

  for (const FileData* f : [&] {
         std::vector<const FileData*> all{&train};
         for (const auto& x : others) all.push_back(&x);
         if (!o.unlabelled.empty()) all.push_back(&unlabelled);
         return all;
       }()) {
    if (f->skipped > 0) {
      notes_.push_back(f->path + ": skipped " + std::to_string(f->skipped) + " bad row" + (f->skipped > 1 ? "s" : "") +
                       " (first: " + f->first_skipped + ")");
    }
    if (f->too_short > 0) {
      notes_.push_back(f->path + ": left out " + std::to_string(f->too_short) + " example" +
                       (f->too_short > 1 ? "s" : "") + " with fewer than min_tokens " + std::to_string(o.min_tokens) +
                       " tokens");
    }
  }

  int64_t longest = 1;
  for (const auto& p : parts) {
    Encoded e = encode(p.docs, p.labels, vocab_, o);
    if (e.emptied > 0) {
      notes_.push_back(p.path + ": left out " + std::to_string(e.emptied) + " example" + (e.emptied > 1 ? "s" : "") +
                       " whose every word is out of the vocabulary (oov: drop)");
    }
    if (e.labels.empty()) throw DataError(p.path + ": the " + p.name + " split has no examples left");
    for (size_t i = 0; i + 1 < e.offsets.size(); ++i) longest = std::max(longest, e.offsets[i + 1] - e.offsets[i]);
    splits_.emplace_back(p.name, std::make_shared<TextClassificationSplit>(std::move(e.ids), std::move(e.offsets),
                                                                           std::move(e.labels)));
  }

  spec_.task = Task::kClassification;
  spec_.num_classes = static_cast<int64_t>(label_names_.size());
  spec_.vocab_size = vocab_.size();
  spec_.max_length = longest;
  spec_.pad_id = Vocabulary::kPad;
  if (!o.embeddings.empty()) {
    const WordVectors v = read_word_vectors(o.embeddings, vocab_, o.seed);
    spec_.pretrained_embeddings = v.matrix;
    notes_.push_back("embeddings: " + std::to_string(v.found) + " of " + std::to_string(v.words) + " words found in " +
                     o.embeddings + " (dim " + std::to_string(v.dim) + ")");
  }
}

std::vector<std::string> TextClassificationDataset::split_names() const {
  std::vector<std::string> names;
  for (const auto& [name, split] : splits_) names.push_back(name);
  return names;
}

std::shared_ptr<const TextClassificationSplit> TextClassificationDataset::text_split(const std::string& name) const {
  for (const auto& [n, split] : splits_)
    if (n == name) return split;
  throw DataError("text_classification: no split '" + name + "' (splits: " + joined(split_names()) + ")");
}

std::shared_ptr<const Split> TextClassificationDataset::split(const std::string& name) const { return text_split(name); }

TokenView TextClassificationDataset::token_view(const Batch& batch, int64_t index) const {
  TokenView view;
  for (int64_t id : real_token_ids(batch, index)) view.labels.push_back(vocab_.word(id));
  return view;
}

}  // namespace attnlab::datasets
