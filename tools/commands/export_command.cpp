// `attnlab export`: a trained model's weights as a safetensors file, named as the model names its
// parameters and buffers (e.g. "blocks.0.attn.q_proj.weight"; models/README.md lists them), with
// the recipe and checkpoint in the file's metadata, so Python can load them with safetensors.
#include "tools/commands/export_command.h"

#include <cstdio>

#include "framework/errors.h"
#include "framework/checkpoint/weights_file.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab export RUN_DIR|CHECKPOINT_DIR [--format safetensors] [--checkpoint best|last]\n"
    "                      [--output FILE]\n"
    "\n"
    "Writes the model's parameters and buffers (names as in models/README.md) to a safetensors\n"
    "file, default <run_dir>/model.safetensors, with the resolved recipe and the checkpoint in the\n"
    "file's __metadata__. Python: safetensors.torch.load_file(FILE).\n";

}  // namespace

int export_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string target, format = "safetensors", which = "best", output;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--format" || a == "--checkpoint" || a == "--output") && i + 1 < args.size()) {
      (a == "--format" ? format : a == "--checkpoint" ? which : output) = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' (see attnlab export --help)");
    } else if (target.empty()) {
      target = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (see attnlab export --help)");
    }
  }
  if (format != "safetensors") throw UserError("--format: only safetensors is supported, got '" + format + "'");
  const TrainedModel t = load_trained_model(target, which);
  if (output.empty()) output = t.run_dir + "/model.safetensors";
  // Buffers (e.g. normalisation statistics) are part of the model's state as much as parameters.
  const auto tensors = checkpoint::model_tensors(*t.model);
  checkpoint::save_weights(*t.model, output,
                           {{"format", "pt"}, {"attnlab.checkpoint", t.checkpoint}, {"attnlab.recipe", t.recipe.tree.to_yaml()}});
  std::printf("%s: %zu tensors from %s\n", output.c_str(), tensors.size(), t.checkpoint.c_str());
  return 0;
}

}  // namespace attnlab::tools
