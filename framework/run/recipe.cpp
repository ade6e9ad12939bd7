// Validation of a whole recipe: the top level, the framework's sections, and (through the
// catalog) every component block, all problems collected into one report. The `abstention` and
// `distributed` sections are validated here and read by framework/calibration and
// framework/distributed.
#include "framework/run/recipe.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "framework/calibration/settings.h"
#include "framework/config/loader.h"
#include "framework/distributed/settings.h"
#include "framework/config/schema.h"
#include "framework/errors.h"
#include "framework/registry/catalog.h"
#include "framework/registry/components.h"

namespace attnlab::run {
namespace {

using config::Schema;
using config::Type;

Schema top_schema() {
  Schema s("a training recipe");
  s.add_string("name", "run", "run name; the default run directory is runs/<name>");
  s.add_int("seed", 0, "seed of parameter initialisation, dropout and data order");
  s.add_string("run_dir", "", "where checkpoints, logs and the resolved recipe go (default runs/<name>)");
  s.add_component("data", "dataset", std::nullopt, "the dataset").make_required();
  s.add_component("model", "model", std::nullopt, "the network").make_required();
  s.add_component("optim", "optimizer", "{name: adamw}", "the optimizer");
  s.add_component("schedule", "schedule", "{name: constant}", "the learning-rate schedule");
  for (const char* section : {"objective", "train", "eval", "checkpoint", "early_stopping", "semi_supervised", "abstention", "distributed", "debug"})
    s.add(section, Type::Map, "{}", std::string("see section '") + section + "' in `attnlab list`");
  return s;
}

Schema train_schema() {
  Schema s("how to train");
  s.add_int("steps", 0, "optimizer steps (0: use epochs)").at_least(0);
  s.add_int("epochs", 0, "passes over the training split (used when steps is 0)").at_least(0);
  s.add_int("batch_size", 32, "examples per micro-batch").at_least(1);
  s.add_int("grad_accum", 1, "micro-batches accumulated per optimizer step").at_least(1);
  s.add_float("grad_clip", 0.0, "clip the global gradient norm to this (0: no clipping)").at_least(0);
  s.add_int("log_every", 10, "optimizer steps between metrics.jsonl lines").at_least(1);
  s.add_int("eval_every", 0, "optimizer steps between evaluations (0: every epoch)").at_least(0);
  s.add_int("threads", 0, "intra-op CPU threads (0: all cores)").at_least(0);
  s.add_bool("deterministic", false, "use deterministic algorithms only (bitwise-reproducible on CPU)");
  s.add_string("resume", "auto", "auto (continue from the run directory's last checkpoint), never, or a checkpoint path");
  s.add_int("max_nonfinite_in_row", 5, "stop after this many consecutive non-finite steps").at_least(1);
  s.add_bool("drop_last", true, "drop the last incomplete batch of each epoch");
  s.add_bool("shuffle", true, "reshuffle the training split every epoch (deterministic from the seed)");
  s.add_string("device", "cpu", "cpu, cuda, or auto (cuda when available)").one_of({"cpu", "cuda", "auto"});
  s.add_string("progress", "auto", "auto (a bar on a terminal, lines otherwise), bar, lines or none")
      .one_of({"auto", "bar", "lines", "none"});
  s.add_int("stop_after_steps", 0,
            "pause with a checkpoint after this many steps in one invocation; rerun to continue "
            "(for time-limited jobs; 0: off)")
      .at_least(0);
  s.add_int("blas_threads", 0,
            "OpenBLAS's own threads (0: as many as `threads`); attnlab runs OpenMP's workers passive "
            "(OMP_WAIT_POLICY=PASSIVE) so both can use every core; under OMP_WAIT_POLICY=ACTIVE set 1")
      .at_least(0);
  s.add_bool("cuda_kernels", true,
             "use attnlab's custom CUDA kernels (Mega EMA scan, fused tap attention, MoH head-sparse "
             "attention) where they apply on a GPU; false runs the ATen paths, e.g. to compare speed");
  s.add_string("init_weights", "",
               "a safetensors file (e.g. from `attnlab export` or Python's save_file) whose weights replace "
               "the random initialisation; names, shapes and dtypes must match the model exactly. A resumed "
               "run continues from its checkpoint instead");
  return s;
}

Schema eval_schema() {
  Schema s("evaluation during and after training");
  s.add_string("split", "val", "split evaluated during training (monitored for best/early stop)");
  s.add_string("test_split", "test", "split evaluated at the end (\"\": none)");
  s.add_int("batch_size", 256, "examples per evaluation batch").at_least(1);
  s.add("metrics", Type::StringList, "[accuracy, macro_f1, auroc]",
        "registered metrics to compute (loss is always reported)");
  return s;
}

Schema checkpoint_schema() {
  Schema s("checkpoints (atomic directories with a checksummed manifest)");
  s.add_int("every", 0, "optimizer steps between checkpoints (0: at every evaluation)").at_least(0);
  s.add_int("keep_last", 2, "how many of the newest checkpoints to keep").at_least(1);
  s.add_bool("keep_best", true, "also keep the best checkpoint by `monitor`");
  s.add_string("monitor", "val/accuracy", "metric that decides the best checkpoint: <split>/<metric>");
  s.add_string("mode", "auto", "max, min, or auto (min for losses)").one_of({"auto", "max", "min"});
  return s;
}

Schema early_stopping_schema() {
  Schema s("stop when the monitored metric stops improving");
  s.add_bool("enabled", false, "turn early stopping on");
  s.add_string("monitor", "val/accuracy", "metric to watch: <split>/<metric>");
  s.add_string("mode", "auto", "max, min, or auto (min for losses)").one_of({"auto", "max", "min"});
  s.add_int("patience", 5, "evaluations without improvement before stopping").at_least(1);
  s.add_float("min_delta", 0.0, "smallest change that counts as an improvement").at_least(0);
  return s;
}

Schema objective_schema() {
  Schema s("the training objective: task loss plus weighted regularizers");
  s.add_string("loss", "cross_entropy", "task loss").one_of({"cross_entropy"});
  s.add_float("label_smoothing", 0.0, "label smoothing of the cross-entropy").at_least(0).less_than(1);
  s.add_component_list("regularizers", "regularizer", "regularizers added to the loss");
  return s;
}

Schema semi_supervised_schema() {
  Schema s("semi-supervised training: unlabelled batches for the terms that read no labels (attention_vat, attention_ivat, word_vat, attention_entropy)");
  s.add_int("labelled_examples", 0,
            "keep the labels of only this many training examples (stratified by class, from the seed); 0: all")
      .at_least(0);
  s.add_int("batch_size", 0, "unlabelled examples per micro-batch (0: no unlabelled data)").at_least(0);
  s.add_component("data", "dataset", std::nullopt,
                  "where unlabelled examples come from (absent: the main dataset); its labels are never read");
  s.add_string("split", "train", "the split of that dataset to draw unlabelled examples from");
  return s;
}

Schema debug_schema() {
  Schema s("debugging switches");
  s.add("nan_loss_at_steps", Type::IntList, "[]",
        "make the loss NaN at these optimizer steps (exercises the non-finite guard)");
  s.add_bool("premade_batches", false,
             "draw every batch of the run before the first step, so steps load no data (`attnlab bench "
             "train` compares the step time with and without loading; holds all batches in memory)");
  s.add_int("profile_steps", 0,
            "profile this many optimizer steps after the first 5 with LibTorch's profiler (CPU ops) "
            "and write the op table to <run_dir>/profile/ops.txt (0: off)")
      .at_least(0);
  return s;
}

struct SectionSchema {
  const char* name;
  Schema (*make)();
};
const SectionSchema kSections[] = {
    {"train", train_schema},           {"eval", eval_schema},
    {"checkpoint", checkpoint_schema}, {"early_stopping", early_stopping_schema},
    {"objective", objective_schema},   {"semi_supervised", semi_supervised_schema},
    {"abstention", calibration::abstention_schema}, {"distributed", distributed::distributed_schema},
    {"debug", debug_schema},
};

void check_monitor(const config::Section& sec, const std::string& key, const EvalSettings& eval,
                   std::vector<config::Problem>& problems) {
  const std::string monitor = sec.get_string(key);
  const auto slash = monitor.find('/');
  const std::string split = slash == std::string::npos ? "" : monitor.substr(0, slash);
  const std::string metric = slash == std::string::npos ? monitor : monitor.substr(slash + 1);
  std::vector<std::string> valid = {eval.split + "/loss"};
  for (const auto& m : eval.metrics) valid.push_back(eval.split + "/" + m);
  bool ok = split == eval.split && (metric == "loss" ||
                                    std::find(eval.metrics.begin(), eval.metrics.end(), metric) !=
                                        eval.metrics.end());
  if (!ok) {
    std::string msg = "'" + monitor + "' is not an evaluated metric";
    if (auto s = config::did_you_mean(monitor, valid)) msg += " (did you mean '" + *s + "'?)";
    msg += "; evaluated: ";
    for (size_t i = 0; i < valid.size(); ++i) msg += (i ? ", " : "") + valid[i];
    problems.push_back({sec.origin(key), sec.path() + "." + key, msg});
  }
}

// The schema a component block at `node` selects by its name (or, when it names none, the
// schema's default block does).
const Schema* component_schema(const config::KeySpec& spec, const config::Value* node) {
  std::string name;
  if (node && node->is_map() && node->find("name") && node->find("name")->is_scalar()) {
    name = node->find("name")->text();
  } else if (node && node->is_scalar()) {
    name = node->text();  // the `attention: mha` shorthand
  } else if (spec.default_yaml) {
    const config::Value def = config::parse_yaml_text(*spec.default_yaml, "<default>");
    if (def.is_map() && def.find("name")) name = def.find("name")->text();
  }
  const auto* info = registry::Catalog::global().find(spec.component_kind, name);
  return info ? &info->schema : nullptr;
}

const Schema& section_schema(const std::string& name) {
  static const std::map<std::string, Schema> schemas = [] {
    std::map<std::string, Schema> m;
    for (const auto& s : kSections) m.emplace(s.name, s.make());
    return m;
  }();
  return schemas.at(name);
}

// The keys the schemas declare under `parent`, walking the recipe's schemas alongside the tree:
// lets `train.steps=5` set a key the recipe leaves at its default (see config::DeclaredKeys).
std::optional<std::vector<std::string>> declared_keys(const config::Value& root,
                                                      const std::vector<std::string>& parent) {
  static const Schema top = top_schema();
  const Schema* schema = &top;
  const config::Value* node = &root;
  bool component = false;  // components also take `name`
  for (const std::string& key : parent) {
    const config::KeySpec* spec = schema->find(key);
    if (!spec) return std::nullopt;
    const config::Value* child = node && node->is_map() ? node->find(key) : nullptr;
    component = spec->type == Type::Component;
    if (component) {
      schema = component_schema(*spec, child);
    } else if (schema == &top && spec->type == Type::Map) {
      schema = &section_schema(key);
    } else {
      return std::nullopt;  // lists and free-form maps: only existing entries can be set
    }
    if (!schema) return std::nullopt;
    node = child;
  }
  std::vector<std::string> keys;
  for (const auto& k : schema->keys()) keys.push_back(k.name);
  if (component) keys.push_back("name");
  return keys;
}

}  // namespace

config::Section Recipe::section(const std::string& key) const { return config::Section(&tree, "").sub(key); }

std::string resolve_mode(const std::string& monitor, const std::string& mode) {
  if (mode != "auto") return mode;
  const std::string suffix = "loss";
  bool is_loss = monitor.size() >= suffix.size() &&
                 monitor.compare(monitor.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (is_loss) return "min";
  // A registered metric knows its direction (perplexity and bits go down, accuracy goes up).
  const std::string metric = monitor.substr(monitor.find('/') + 1);
  if (registry::metrics().contains(metric)) {
    config::Value empty = config::Value::map();
    const auto m = registry::metrics().get(metric)(config::Section(&empty, "eval.metrics"));
    return m->higher_is_better() ? "max" : "min";
  }
  return "max";
}

void register_recipe_sections() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& catalog = registry::Catalog::global();
    catalog.add({"section", "(top level)", "keys at the top of a recipe", top_schema()});
    for (const auto& s : kSections) {
      Schema schema = s.make();
      catalog.add({"section", s.name, schema.doc(), schema});
    }
  });
}

Recipe recipe_from_tree(config::Value tree, const std::string& source) {
  register_recipe_sections();
  const auto lookup = registry::Catalog::global().lookup();
  std::vector<config::Problem> problems;
  if (!tree.is_map()) {
    throw UserError(source + ": a recipe must be a YAML map of sections, got a " +
                    config::kind_name(tree.kind()));
  }
  config::validate(tree, top_schema(), "", lookup, problems);
  for (const auto& s : kSections) {
    config::Value* section = tree.find(s.name);
    if (section && section->is_map()) config::validate(*section, s.make(), s.name, lookup, problems);
  }
  config::throw_if_problems(problems);  // the reads below rely on a valid tree

  Recipe r;
  r.tree = std::move(tree);
  r.source = source;
  const config::Section root(&r.tree, "");
  r.name = root.get_string("name");
  r.seed = root.get_int("seed");
  r.run_dir = root.get_string("run_dir").empty() ? "runs/" + r.name : root.get_string("run_dir");

  const auto t = root.sub("train");
  r.train = {t.get_int("steps"), t.get_int("epochs"), t.get_int("batch_size"), t.get_int("grad_accum"),
             t.get_float("grad_clip"), t.get_int("log_every"), t.get_int("eval_every"),
             t.get_int("threads"), t.get_bool("deterministic"), t.get_string("resume"),
             t.get_int("max_nonfinite_in_row"), t.get_bool("drop_last"), t.get_bool("shuffle"),
             t.get_string("device"), t.get_string("progress"), t.get_int("stop_after_steps"),
             t.get_string("init_weights"), t.get_int("blas_threads"), t.get_bool("cuda_kernels")};
  if (r.train.steps == 0 && r.train.epochs == 0) {
    problems.push_back({t.origin("steps"), "train.steps",
                        "set train.steps or train.epochs (both are 0)"});
  }

  const auto e = root.sub("eval");
  r.eval = {e.get_string("split"), e.get_string("test_split"), e.get_int("batch_size"),
            e.get_string_list("metrics")};
  const auto known_metrics = registry::Catalog::global().names("metric");
  for (const auto& m : r.eval.metrics) {
    if (std::find(known_metrics.begin(), known_metrics.end(), m) != known_metrics.end()) continue;
    std::string msg = "unknown metric '" + m + "'";
    if (auto s = config::did_you_mean(m, known_metrics)) msg += " (did you mean '" + *s + "'?)";
    problems.push_back({e.origin("metrics"), "eval.metrics", msg});
  }

  const auto c = root.sub("checkpoint");
  r.checkpoint = {c.get_int("every"), c.get_int("keep_last"), c.get_bool("keep_best"),
                  c.get_string("monitor"), c.get_string("mode")};
  const auto es = root.sub("early_stopping");
  r.early_stopping = {es.get_bool("enabled"), es.get_string("monitor"), es.get_string("mode"),
                      es.get_int("patience"), es.get_float("min_delta")};
  check_monitor(c, "monitor", r.eval, problems);
  if (r.early_stopping.enabled) check_monitor(es, "monitor", r.eval, problems);

  const auto o = root.sub("objective");
  r.objective = {o.get_string("loss"), o.get_float("label_smoothing")};
  const auto semi = root.sub("semi_supervised");
  r.semi_supervised = {semi.get_int("labelled_examples"), semi.get_int("batch_size"), semi.has("data"),
                       semi.get_string("split")};
  r.debug.nan_loss_at_steps = root.sub("debug").get_int_list("nan_loss_at_steps");
  r.debug.premade_batches = root.sub("debug").get_bool("premade_batches");
  r.debug.profile_steps = root.sub("debug").get_int("profile_steps");
  config::throw_if_problems(problems);
  return r;
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  register_recipe_sections();
  Recipe r = recipe_from_tree(config::resolve_recipe(path, overrides, declared_keys), path);
  r.overrides = overrides;
  return r;
}

}  // namespace attnlab::run
