// `attnlab calibrate RUN_DIR [options] [key=value ...]` and
// `attnlab calibrate --cal FILE --test FILE [options] [key=value ...]`: the abstention stage.
#include <cstdio>

#include "framework/calibration/logits_file.h"
#include "framework/calibration/stage.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "tools/commands/commands.h"
#include "tools/commands/option_values.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab calibrate RUN_DIR|CHECKPOINT_DIR [--checkpoint best|last] [--recompute] [--json]\n"
    "                         [key=value ...]\n"
    "       attnlab calibrate --cal FILE --test FILE [--cal-labels F.npy --test-labels F.npy]\n"
    "                         [--values logits|probs] [--temperature T] [--format csv|tsv|jsonl|npy]\n"
    "                         [--output results.json] [--json] [key=value ...]\n"
    "       attnlab calibrate --data FILE [--cal-split NAME --test-split NAME | --cal-fraction F]\n"
    "                         [...as above]\n"
    "\n"
    "Fits conformal sets (lac, aps, raps, top_k), the dual-threshold rule and the RL-learned\n"
    "thresholds (rl_paper as published, rl_sound tuned on held-out calibration data) on a\n"
    "calibration split and scores them side by side on a test split: coverage, set size, singleton\n"
    "and abstention rates, accuracy and risk on answered items, the penalty score, and the model's\n"
    "AURC / E-AURC / AUROC / AUARC / ECE.\n"
    "\n"
    "For a run, the model's class probabilities on the splits are cached in RUN_DIR/abstention/\n"
    "outputs (--recompute ignores them); results go to RUN_DIR/abstention/results.json and\n"
    "table.txt. Settings come from the recipe's `abstention:` section; key=value overrides them\n"
    "(e.g. alpha=0.05 methods=[lac,aps] corruptions=[blur]); keys: `attnlab list section abstention`.\n"
    "\n"
    "Files from elsewhere (an LLM's option logits, any classifier): CSV/TSV with a header, a `label`\n"
    "column, an optional `split` column and one column per class; JSONL objects {\"logits\": [...],\n"
    "\"label\": 2, \"split\": \"cal\"}; or an (N, K) .npy with an (N) integer .npy of labels. --data reads\n"
    "one file holding both splits: by its split column (default names cal and test) or cut at random\n"
    "(--cal-fraction, seeded by seed=).\n";

struct FileArgs {
  std::string cal, test, data, cal_labels, test_labels, output;
  std::string cal_split = "cal", test_split = "test";
  double cal_fraction = 0.0;
  calibration::LogitsFileOptions options;
};

// The FileArgs field a file option sets, or null for another option.
std::string* file_option_of(FileArgs& f, const std::string& option) {
  const std::pair<const char*, std::string*> options[] = {
      {"--cal", &f.cal},           {"--test", &f.test},           {"--data", &f.data},
      {"--cal-labels", &f.cal_labels}, {"--test-labels", &f.test_labels}, {"--output", &f.output},
      {"--cal-split", &f.cal_split},   {"--test-split", &f.test_split}};
  for (const auto& [name, field] : options)
    if (option == name) return field;
  return nullptr;
}

calibration::Scored scored(const calibration::ScoredExamples& e) { return {e.probs, e.labels}; }

int print(const calibration::Comparison& c, const calibration::AbstentionSettings& s, bool json,
          const std::string& output) {
  nlohmann::json j;
  j["settings"] = calibration::settings_json(s);
  j["clean"] = c.to_json();
  if (!output.empty()) io::write_file_atomic(output, j.dump(2) + "\n");
  if (json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::fputs(calibration::comparison_table(c, s.alpha).c_str(), stdout);
  }
  return 0;
}

int calibrate_files(const FileArgs& f, const std::vector<std::string>& overrides, bool json) {
  const calibration::AbstentionSettings settings = calibration::settings_with_overrides(nullptr, overrides);
  calibration::Scored cal, test;
  if (!f.data.empty()) {
    const auto all = calibration::read_scored_examples(f.data, f.options);
    if (f.cal_fraction > 0.0) {
      const auto [c, t] = calibration::random_split(all, f.cal_fraction, static_cast<uint64_t>(settings.seed));
      cal = scored(c);
      test = scored(t);
    } else {
      cal = scored(calibration::select_split(all, f.cal_split, f.data));
      test = scored(calibration::select_split(all, f.test_split, f.data));
    }
  } else {
    if (f.cal.empty() || f.test.empty()) throw UserError("give both --cal FILE and --test FILE (or --data FILE)");
    auto options = f.options;
    options.labels_path = f.cal_labels;
    cal = scored(calibration::read_scored_examples(f.cal, options));
    options.labels_path = f.test_labels;
    test = scored(calibration::read_scored_examples(f.test, options));
  }
  return print(calibration::compare_files(cal, test, settings), settings, json, f.output);
}

}  // namespace

int calibrate_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string target, which = "best";
  bool json = false, recompute = false, files = false;
  FileArgs f;
  std::vector<std::string> overrides;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UserError(a + " needs a value (see attnlab calibrate --help)");
      return args[++i];
    };
    if (a == "--json") {
      json = true;
    } else if (a == "--recompute") {
      recompute = true;
    } else if (a == "--checkpoint") {
      which = value();
    } else if (std::string* file_option = file_option_of(f, a)) {
      *file_option = value();
      files = files || a != "--output";
    } else if (a == "--values") {
      f.options.values = value();
    } else if (a == "--format") {
      f.options.format = value();
    } else if (a == "--temperature") {
      f.options.temperature = parse_positive_option(a, value());
    } else if (a == "--cal-fraction") {
      f.cal_fraction = parse_positive_option(a, value());
      files = true;
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' (see attnlab calibrate --help)");
    } else if (a.find('=') != std::string::npos) {
      overrides.push_back(a);
    } else if (target.empty()) {
      target = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (see attnlab calibrate --help)");
    }
  }
  if (files) {
    if (!target.empty()) throw UserError("give a run directory or --cal/--test/--data files, not both");
    return calibrate_files(f, overrides, json);
  }
  if (target.empty()) throw UserError("no run directory (see attnlab calibrate --help)");
  const TrainedModel t = load_trained_model(target, which);
  const auto settings = calibration::settings_with_overrides(t.recipe.tree.find("abstention"), overrides);
  calibration::StageInputs inputs{t.model.get(), t.dataset.get(), t.checkpoint, t.run_dir,
                                  t.recipe.eval.test_split, t.recipe.eval.batch_size};
  const auto result = calibration::run_abstention_stage(inputs, settings, recompute);
  if (json) {
    std::printf("%s\n", io::read_file(result.results_path).c_str());
  } else {
    std::fputs(result.table.c_str(), stdout);
    std::printf("results in %s\n", result.results_path.c_str());
  }
  return 0;
}

}  // namespace attnlab::tools
