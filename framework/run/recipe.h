// A training recipe after resolution and validation: the recipe tree (with provenance) plus the
// framework's own sections read into plain structs. Component sections (data, model, optim,
// schedule, regularizers, metrics) stay as trees and are read by their factories.
//
// Top-level keys: name, seed, run_dir, data, model, objective, optim, schedule, train, eval,
// checkpoint, early_stopping, semi_supervised, abstention (read by framework/calibration),
// distributed (read by framework/distributed), debug.
// Each framework section has a schema registered in the catalog under kind "section", so
// `attnlab list` documents it like any component.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/config/section.h"
#include "framework/config/value.h"

namespace attnlab::run {

struct TrainSettings {
  int64_t steps = 0;         // optimizer steps; 0 = derive from epochs
  int64_t epochs = 0;
  int64_t batch_size = 32;   // examples per micro-batch
  int64_t grad_accum = 1;    // micro-batches per optimizer step
  double grad_clip = 0.0;    // max global grad norm; 0 = no clipping (the norm is logged anyway)
  int64_t log_every = 10;
  int64_t eval_every = 0;    // optimizer steps; 0 = at the end of every epoch
  int64_t threads = 0;       // intra-op threads; 0 = all cores
  bool deterministic = false;
  std::string resume = "auto";  // auto | never | PATH to a checkpoint directory
  int64_t max_nonfinite_in_row = 5;
  bool drop_last = true;
  bool shuffle = true;
  std::string device = "cpu";   // cpu | cuda | auto
  std::string progress = "auto";  // auto | bar | lines | none
  int64_t stop_after_steps = 0;   // pause (checkpoint, exit 0) after this many steps in one invocation
  std::string init_weights;       // a safetensors file the model starts from ("" = random initialisation)
  int64_t blas_threads = 1;       // OpenBLAS's own threads (0: as many as `threads`)
  bool cuda_kernels = true;       // custom CUDA kernels where they apply (attention/kernels/)
};

struct EvalSettings {
  std::string split = "val";
  std::string test_split = "test";   // "" = no test evaluation at the end
  int64_t batch_size = 256;
  std::vector<std::string> metrics;  // registered metric names
};

struct CheckpointSettings {
  int64_t every = 0;       // optimizer steps; 0 = at every evaluation
  int64_t keep_last = 2;
  bool keep_best = true;
  std::string monitor = "val/accuracy";
  std::string mode = "auto";  // max | min | auto (min for names ending in "loss")
};

struct EarlyStoppingSettings {
  bool enabled = false;
  std::string monitor = "val/accuracy";
  std::string mode = "auto";
  int64_t patience = 5;     // evaluations without improvement
  double min_delta = 0.0;
};

struct ObjectiveSettings {
  std::string loss = "cross_entropy";
  double label_smoothing = 0.0;
};

// Semi-supervised training (Attention VAT's setting, notes §2.2): the terms that read no labels
// (attention_vat, attention_ivat, word_vat, attention_entropy) also see an unlabelled batch each
// micro-batch, and the labelled data may be cut to a few examples.
struct SemiSupervisedSettings {
  int64_t labelled_examples = 0;  // > 0: only this many training examples keep their labels
  int64_t batch_size = 0;         // unlabelled examples per micro-batch; 0: no unlabelled data
  bool has_data = false;          // semi_supervised.data given (else the main dataset)
  std::string split = "train";    // the split unlabelled batches come from
};

struct DebugSettings {
  std::vector<int64_t> nan_loss_at_steps;  // make the loss NaN at these optimizer steps
  bool premade_batches = false;            // draw every batch before training: the cost of loading, by difference
  int64_t profile_steps = 0;               // profile this many steps after the warm-up (profile/ops.txt); 0 = off
};

struct Recipe {
  config::Value tree;   // resolved, validated, defaults filled
  std::string source;   // the recipe file
  std::vector<std::string> overrides;
  std::string name;
  int64_t seed = 0;
  std::string run_dir;
  TrainSettings train;
  EvalSettings eval;
  CheckpointSettings checkpoint;
  EarlyStoppingSettings early_stopping;
  ObjectiveSettings objective;
  SemiSupervisedSettings semi_supervised;
  DebugSettings debug;

  config::Section section(const std::string& key) const;
};

// Registers the framework sections' schemas in the catalog (kind "section"). Idempotent.
void register_recipe_sections();

// Loads `path`, applies overrides, interpolates, validates everything against the catalog and
// reads the sections. Throws one UserError listing every problem.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides);
// Validates an already-resolved tree (e.g. the recipe saved in a run directory).
Recipe recipe_from_tree(config::Value tree, const std::string& source);

// "max" or "min" for a monitor name under mode "auto".
std::string resolve_mode(const std::string& monitor, const std::string& mode);

}  // namespace attnlab::run
