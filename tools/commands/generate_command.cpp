// `attnlab generate`: rebuilds a run's text corpus (for its codec) and model, encodes the prompt,
// generates, and prints prompt + continuation. Nothing else goes to stdout, so the output can be
// piped as it is.
#include "tools/commands/generate_command.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "datasets/text_corpus.h"
#include "framework/errors.h"
#include "tools/commands/option_values.h"
#include "tools/commands/text_generation.h"
#include "tools/commands/trained_model.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab generate RUN_DIR --prompt TEXT [--max-new-tokens N] [--temperature T] [--top-k K]\n"
    "                        [--greedy] [--seed S] [--checkpoint best|last|PATH]\n"
    "\n"
    "Continues TEXT with the language model of a run trained on a `text` corpus and prints the\n"
    "prompt followed by the continuation. The prompt is encoded with the run's own codec (bytes, or\n"
    "the word vocabulary rebuilt from the same files; unknown words become <unk>).\n"
    "\n"
    "  --max-new-tokens N   tokens to add (default 200)\n"
    "  --greedy             always take the most likely token (ignores temperature and top-k)\n"
    "  --temperature T      sample from softmax(logits / T) (default 1.0, > 0)\n"
    "  --top-k K            sample among the K most likely tokens only (default 0: all)\n"
    "  --seed S             seed of the sampling generator: the same seed gives the same text\n"
    "                       (default 0)\n"
    "  --checkpoint W       best (default; the last one when no best is recorded), last, or the\n"
    "                       path of a checkpoint directory\n"
    "\n"
    "Each new token runs the model on the last seq_len tokens again (a full recompute; no key/value\n"
    "or EMA state is cached), so a token costs one forward pass of a window. The pad token is never\n"
    "generated. Word-level output has single spaces between words.\n"
    "Example: attnlab generate runs/lm_bytes_mha --prompt 'The licensee' --max-new-tokens 300\n";

}  // namespace

int generate_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string run_dir, which = "best";
  std::optional<std::string> prompt;
  GenerationOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool has_value = i + 1 < args.size();
    if (a == "--greedy") {
      o.greedy = true;
    } else if (a == "--prompt" && has_value) {
      prompt = args[++i];
    } else if (a == "--max-new-tokens" && has_value) {
      o.max_new_tokens = parse_int_option(a, args[++i], 0);
    } else if (a == "--temperature" && has_value) {
      o.temperature = parse_positive_option(a, args[++i]);
    } else if (a == "--top-k" && has_value) {
      o.top_k = parse_int_option(a, args[++i], 0);
    } else if (a == "--seed" && has_value) {
      o.seed = static_cast<uint64_t>(parse_int_option(a, args[++i], 0));
    } else if (a == "--checkpoint" && has_value) {
      which = args[++i];
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' or missing value (see attnlab generate --help)");
    } else if (run_dir.empty()) {
      run_dir = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (see attnlab generate --help)");
    }
  }
  if (run_dir.empty()) throw UserError("no run directory given (see attnlab generate --help)");
  if (!prompt) throw UserError("--prompt TEXT is required (see attnlab generate --help)");
  if (!std::filesystem::is_directory(run_dir)) throw UserError(run_dir + ": no such run directory");

  // best | last pick a checkpoint of the run; anything else is a checkpoint directory, as given or
  // relative to the run directory.
  std::string target = run_dir;
  if (which != "best" && which != "last") {
    target = std::filesystem::exists(which) ? which : run_dir + "/" + which;
    if (!std::filesystem::exists(target + "/manifest.json")) {
      throw UserError("--checkpoint: '" + which + "' is not best, last or a checkpoint directory");
    }
    which = "best";
  }
  const TrainedModel t = load_trained_model(target, which);
  const auto corpus = std::dynamic_pointer_cast<datasets::TextCorpus>(t.dataset);
  if (!corpus) {
    throw UserError(t.run_dir + ": the run's dataset is '" + t.recipe.section("data").get_string("name") +
                    "', not a text corpus; generate needs a language model trained on data: {name: text}");
  }
  const auto& codec = corpus->codec();
  const auto encoded = codec.encode(*prompt);
  if (encoded.ids.empty()) throw UserError("--prompt: the prompt has no tokens; give it some text");

  const auto ids = generate_tokens(*t.model, encoded.ids, corpus->spec().max_length, codec.pad_id(), o);
  const std::string text = *prompt + codec.continuation(*prompt, ids);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace attnlab::tools
