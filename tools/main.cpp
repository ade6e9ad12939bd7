// attnlab: train, evaluate and inspect attention models from YAML recipes.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <c10/util/Exception.h>

#include "datasets/dataset.h"
#include "framework/distributed/communicator.h"
#include "framework/errors.h"
#include "framework/runtime/threads.h"
#include "framework/train/trainer.h"
#include "tools/commands/bench_command.h"
#include "tools/commands/commands.h"
#include "tools/commands/compare_command.h"
#include "tools/commands/export_command.h"
#include "tools/commands/generate_command.h"
#include "tools/commands/report_command.h"
#include "tools/commands/reproduce_command.h"
#include "tools/components/components.h"

namespace {

const char* kUsage =
    "usage: attnlab <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  train RECIPE [key=value ...]     train a recipe (resumes its run directory if it has a checkpoint)\n"
    "  eval RUN_DIR|CHECKPOINT [--split NAME] [--checkpoint best|last]\n"
    "                                   evaluate trained weights on a split\n"
    "  calibrate RUN_DIR [key=value ...] | --cal FILE --test FILE\n"
    "                                   conformal sets and abstention, fitted and compared\n"
    "  launch --nproc N -- train RECIPE [...]\n"
    "                                   data-parallel training in N local processes (Gloo)\n"
    "  config RECIPE [key=value ...]    print the resolved recipe and where each value came from\n"
    "  list [KIND]                      print every registered component and its keys\n"
    "  export RUN_DIR|CHECKPOINT [--format safetensors] [--output FILE]\n"
    "                                   write the trained weights as safetensors\n"
    "  generate RUN_DIR --prompt TEXT [options]\n"
    "                                   continue a text with a trained language model\n"
    "  bench attention|distributed|train|kernels [options]\n"
    "                                   time attention modules, data-parallel scaling, the trainer vs Python\n"
    "  report RUN_DIR [options]         an HTML page of the run: curves, attention, abstention\n"
    "  compare RUN_DIR... [--html FILE] final metrics of several runs side by side\n"
    "  reproduce SUITE [--output DIR] [--only NAME] [key=value ...] | --list\n"
    "                                   train a suite of paper recipes, tabulate claim vs result\n"
    "\n"
    "overrides: a.b=v sets, +a.b=v adds, ++a.b=v sets or adds, ~a.b deletes, a.list.0=v indexes.\n"
    "`attnlab COMMAND --help` tells more. Exit codes: 0 ok, 2 bad input, 1 run failure,\n"
    "130/143 stopped by SIGINT/SIGTERM after saving a checkpoint.\n";

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

int dispatch(const std::string& cmd, const attnlab::tools::Args& args) {
  using namespace attnlab::tools;
  if (cmd == "train") return train_command(args);
  if (cmd == "eval") return eval_command(args);
  if (cmd == "calibrate") return calibrate_command(args);
  if (cmd == "launch") return launch_command(args);
  if (cmd == "config") return config_command(args);
  if (cmd == "list") return list_command(args);
  if (cmd == "export") return export_command(args);
  if (cmd == "generate") return generate_command(args);
  if (cmd == "bench") return bench_command(args);
  if (cmd == "report") return report_command(args);
  if (cmd == "compare") return compare_command(args);
  if (cmd == "reproduce") return reproduce_command(args);
  std::fprintf(stderr, "attnlab: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  attnlab::runtime::reexec_with_passive_openmp_workers(argv);  // before any work: see threads.h
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  const attnlab::tools::Args args(argv + 2, argv + argc);
  try {
    attnlab::tools::register_all_components();
    return dispatch(cmd, args);
  } catch (const attnlab::UserError& e) {
    std::fprintf(stderr, "attnlab %s: error: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const attnlab::datasets::DataError& e) {
    std::fprintf(stderr, "attnlab %s: error: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const attnlab::distributed::DistributedError& e) {
    std::fprintf(stderr, "attnlab %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const attnlab::train::DivergedError& e) {
    std::fprintf(stderr, "attnlab %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "attnlab %s: internal error: %s\n", cmd.c_str(),
                 first_line(e.what_without_backtrace()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attnlab %s: internal error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
