// Recipe names of the multiple-instance-learning components: the ABMIL model
// (`model: {name: abmil, ...}`), MIL bags of sklearn digits (`data: {name: digits_mil, ...}`) and
// precomputed instance features (`data: {name: mil_features, ...}`).
#include "datasets/mil_bags.h"
#include "datasets/mil_features.h"
#include "framework/registry/components.h"
#include "models/abmil.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_mil_components() {
  config::Schema m(
      "ABMIL (Ilse et al. 2018): instance encoder, gated/additive attention pooling or a query token over the "
      "recipe's attention module (AEM's MHA variant), linear classifier; attention site `pool`");
  m.add_string("encoder", "conv", "conv: small LeNet for 8x8 images (64 features); linear: Linear(F->hidden, no bias) + "
                                  "ReLU for precomputed features (AEM's DimReduction)").one_of({"conv", "linear"});
  m.add_int("hidden", 128, "instance embedding size D").at_least(1);
  m.add_string("pooling", "gated", "gated: w^T(tanh(V h) * sigmoid(U h)); additive: w^T tanh(V h); attention: a learned "
                                   "query token over the attention module").one_of({"gated", "additive", "attention"});
  m.add_int("attention_dim", 128, "width of the gated/additive attention score").at_least(1);
  m.add_float("dropout", 0.0, "dropout on the pooled bag vector").at_least(0).less_than(1);
  m.add_component("attention", "attention", "{name: mha, heads: 8}", "the attention module of pooling: attention");
  registry::models().add(
      "abmil", m.doc(), m,
      [](const config::Section& c, const models::InputSpec& spec, const models::AttentionBuilder& attention) {
        models::AbmilOptions o;
        o.encoder = c.get_string("encoder");
        o.hidden = c.get_int("hidden");
        o.pooling = c.get_string("pooling");
        o.attention_dim = c.get_int("attention_dim");
        o.dropout = c.get_float("dropout");
        return std::make_shared<models::Abmil>(o, spec, o.pooling == "attention" ? attention : models::AttentionBuilder());
      });

  config::Schema d(
      "MIL bags of sklearn's 8x8 digits (Ilse et al.'s MNIST-bags): bag label = any instance is the target digit; "
      "instance labels kept as the rationale; train/val/test bags from disjoint image pools");
  d.add_string("path", "", "digits.csv.gz to read (\"\": find python3-sklearn's copy)");
  d.add_int("target", 9, "the digit that makes a bag positive").at_least(0).at_most(9);
  d.add_float("mean_bag_size", 10.0, "mean of the bag length int(N(mean, std)), floored at 1").greater_than(0);
  d.add_float("std_bag_size", 2.0, "standard deviation of the bag length (Ilse's var_bag_length)").at_least(0);
  d.add_bool("balanced", true, "alternate positive and negative bags (exactly half positive; the paper's loader); "
                               "false: naive bags labelled by content");
  d.add_int("min_witnesses", 1, "fewest target instances in a positive bag (multi-witness variant: e.g. 3)").at_least(1);
  d.add_float("witness_fraction", 0.0, "> 0: a positive bag has exactly max(min_witnesses, round(p n)) targets")
      .at_least(0).at_most(1);
  d.add_int("train_bags", 200, "training bags").at_least(1);
  d.add_int("val_bags", 200, "validation bags").at_least(1);
  d.add_int("test_bags", 1000, "test bags").at_least(1);
  d.add_float("val_fraction", 0.15, "fraction of the images (per digit) in the val pool").at_least(0).less_than(1);
  d.add_float("test_fraction", 0.25, "fraction of the images (per digit) in the test pool").at_least(0).less_than(1);
  d.add_string("features", "pixels", "pixels: 64 values in [0, 1]; random_projection: frozen ReLU(x R), R +-1/8 "
                                     "seeded").one_of({"pixels", "random_projection"});
  d.add_int("projection_dim", 128, "random_projection: feature size").at_least(1);
  d.add_int("seed", 0, "seed of the pools, the bags and the projection").at_least(0);
  registry::datasets().add("digits_mil", d.doc(), d, [](const config::Section& c) {
    datasets::DigitsMilOptions o;
    o.path = c.get_string("path");
    o.bags.target = c.get_int("target");
    o.bags.mean_bag_size = c.get_float("mean_bag_size");
    o.bags.std_bag_size = c.get_float("std_bag_size");
    o.bags.balanced = c.get_bool("balanced");
    o.bags.min_witnesses = c.get_int("min_witnesses");
    o.bags.witness_fraction = c.get_float("witness_fraction");
    o.train_bags = c.get_int("train_bags");
    o.val_bags = c.get_int("val_bags");
    o.test_bags = c.get_int("test_bags");
    o.val_fraction = c.get_float("val_fraction");
    o.test_fraction = c.get_float("test_fraction");
    o.features = c.get_string("features");
    o.projection_dim = c.get_int("projection_dim");
    o.seed = static_cast<uint64_t>(c.get_int("seed"));
    return std::make_shared<datasets::DigitsMilDataset>(o);
  });

  config::Schema f(
      "precomputed MIL instance features: per split a CSV/TSV with header bag_id,label[,instance_label],f1..fD, "
      "one row per instance (datasets/README.md)");
  f.add_string("train", "", "training file").make_required();
  f.add_string("val", "", "validation file (\"\": none)");
  f.add_string("test", "", "test file (\"\": none)");
  f.add_int("num_classes", 0, "number of bag classes (0: 1 + the largest label, at least 2)").at_least(0);
  registry::datasets().add("mil_features", f.doc(), f, [](const config::Section& c) {
    datasets::MilFeaturesOptions o;
    o.train = c.get_string("train");
    o.val = c.get_string("val");
    o.test = c.get_string("test");
    o.num_classes = c.get_int("num_classes");
    return std::make_shared<datasets::MilFeaturesDataset>(o);
  });
}

}  // namespace attnlab::tools
