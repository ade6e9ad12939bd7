// Recipe names of the datasets: `data: {name: digits, patch_size: 2, ...}`.
#include "datasets/digits.h"
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
}

}  // namespace attnlab::tools
