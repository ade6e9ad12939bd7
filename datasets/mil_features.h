// Precomputed instance features for multiple-instance learning (what users of ABMIL, CLAM or AEM
// have after running a patch feature extractor), registered as the dataset `mil_features`.
//
// Format: one delimited text file per split (train, val, test), one row per instance. The first
// line is a header naming the columns:
//   bag_id,label,instance_label,f1,f2,...,fD      (instance labels known)
//   bag_id,label,f1,...,fD                        (instance labels unknown)
// The delimiter is a tab if the header holds one, else a comma. bag_id is any non-empty text; a
// bag's rows need not be adjacent, bags keep the order of their first row, and every row of a bag
// must carry the same label (an integer >= 0). instance_label is 0 or 1 (1 = witness: it becomes
// the batch's rationale). The D >= 1 feature columns (any names) are finite decimal numbers, the
// same D in every file. Blank lines and CRLF endings are tolerated.
//
// Errors (DataError, one line): `PATH: MIL features file not found`; `PATH:1: expected a header
// starting 'bag_id,label', got '...'`; `PATH:1: the header names no feature column`; `PATH:LINE:
// expected N columns (as the header), got M`; `PATH:LINE: empty bag_id`; `PATH:LINE: label 'x' is
// not an integer >= 0`; `PATH:LINE: instance_label 'x' is not 0 or 1`; `PATH:LINE: column C
// ('name'): 'x' is not a finite number`; `PATH:LINE: bag 'b' has label 1 here but 0 at line K`;
// `PATH:LINE: label 3 is not below num_classes 2`; `PATH: no MIL rows`; `PATH: D features per
// instance, but TRAIN has E`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/mil_split.h"

namespace attnlab::datasets {

struct MilFeaturesFile {
  torch::Tensor instances;  // (M, D) float32, file row order
  std::vector<MilBag> bags;
  std::vector<int64_t> bag_lines;  // line of each bag's first row
  int64_t max_label = -1;
  bool has_instance_labels = false;
};

// Reads one file; throws DataError as above.
MilFeaturesFile read_mil_features(const std::string& path);

struct MilFeaturesOptions {
  std::string train, val, test;  // paths; val and test may be "" (that split is absent)
  int64_t num_classes = 0;       // 0: 1 + the largest label in the files (at least 2)
};

class MilFeaturesDataset : public Dataset {
 public:
  explicit MilFeaturesDataset(const MilFeaturesOptions& options);
  DataSpec spec() const override { return spec_; }
  std::vector<std::string> split_names() const override { return names_; }
  std::shared_ptr<const Split> split(const std::string& name) const override;

 private:
  DataSpec spec_;
  std::vector<std::string> names_;
  std::vector<std::shared_ptr<const MilSplit>> splits_;
};

}  // namespace attnlab::datasets
