// `attnlab report`: the run's HTML page (framework/report/run_report.h). The attention heatmaps
// need the trained model, rebuilt from the run's recipe and checkpoint; a run without a usable
// checkpoint still gets every other section, with a note saying why the heatmaps are missing.
#include "tools/commands/report_command.h"

#include <cstdio>
#include <filesystem>

#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/report/run_report.h"
#include "framework/run/experiment.h"
#include "tools/commands/option_values.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab report RUN_DIR [--output FILE] [--examples N] [--split NAME] [--checkpoint best|last]\n"
    "\n"
    "Writes one self-contained HTML page (inline SVG, no script, no network), default\n"
    "RUN_DIR/report.html: summary and run record, loss terms, metrics, learning rate and gradient\n"
    "norm against the step, attention statistics (MoH's fraction of heads and per-head usage),\n"
    "attention heatmaps of the first N examples (default 4) of a split (default the recipe's\n"
    "eval.split) from the best checkpoint, the abstention stage's figures when it ran, and the\n"
    "resolved recipe.\n";

}  // namespace

int report_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string run_dir, output, split, which = "best";
  int64_t examples = 4;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--output" || a == "--split" || a == "--checkpoint" || a == "--examples") && i + 1 < args.size()) {
      const std::string& v = args[++i];
      if (a == "--examples") {
        examples = parse_int_option(a, v, 0);
      } else {
        (a == "--output" ? output : a == "--split" ? split : which) = v;
      }
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' (see attnlab report --help)");
    } else if (run_dir.empty()) {
      run_dir = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (see attnlab report --help)");
    }
  }
  while (run_dir.size() > 1 && run_dir.back() == '/') run_dir.pop_back();
  report::ReportInputs inputs = report::read_report_inputs(run_dir);
  if (output.empty()) output = run_dir + "/report.html";
  if (examples > 0) {
    try {
      const TrainedModel t = load_trained_model(run_dir, which);
      inputs.examples_split = split.empty() ? t.recipe.eval.split : split;
      const auto data = run::split_or_error(*t.dataset, inputs.examples_split, "--split");
      inputs.examples = report::attention_examples(*t.model, *t.dataset, *data, examples, torch::Device(torch::kCPU));
      if (inputs.examples.empty()) inputs.examples_note = "the " + inputs.examples_split + " split is empty";
    } catch (const UserError& e) {
      // A run with no usable checkpoint (still at its first steps, or its files gone) still has curves.
      if (!split.empty()) throw;
      inputs.examples_note = std::string("no heatmaps: ") + e.what();
    }
  } else {
    inputs.examples_note = "no heatmaps (--examples 0)";
  }
  io::write_file_atomic(output, report::render_report(inputs));
  std::printf("%s\n", output.c_str());
  return 0;
}

}  // namespace attnlab::tools
