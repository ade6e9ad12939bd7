// Run directory layout and its small files.
#include "framework/run/run_dir.h"

#include <cstdio>
#include <filesystem>

#include "framework/checkpoint/checkpoint_store.h"
#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::run {

namespace fs = std::filesystem;

RunDir RunDir::create(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path + "/checkpoints", ec);
  if (ec) throw UserError(path + ": cannot create the run directory: " + ec.message());
  RunDir d;
  d.path_ = path;
  return d;
}

RunDir RunDir::open(const std::string& path) {
  if (!fs::exists(path + "/recipe.yaml"))
    throw UserError(path + ": not a run directory (no recipe.yaml)");
  RunDir d;
  d.path_ = path;
  return d;
}

void RunDir::save_recipe(const Recipe& recipe) {
  const std::string text = recipe.tree.to_yaml();
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", io::crc32c(text));
  recipe_checksum_ = hex;
  std::string header = "# resolved from " + recipe.source;
  for (const auto& o : recipe.overrides) header += " " + o;
  io::write_file_atomic(recipe_path(), header + "\n" + text);
  io::write_file_atomic(path_ + "/recipe.provenance.yaml", header + "\n" + recipe.tree.to_yaml(true));
}

void RunDir::write_best(int64_t step, const std::string& monitor, double value) const {
  const nlohmann::json j = {{"step", step}, {"monitor", monitor}, {"value", value}};
  io::write_file_atomic(checkpoints() + "/best.json", j.dump(1) + "\n");
}

std::string RunDir::best_checkpoint() const {
  const std::string file = checkpoints() + "/best.json";
  if (!fs::exists(file)) return "";
  const auto j = nlohmann::json::parse(io::read_file(file), nullptr, false);
  if (j.is_discarded() || !j.contains("step")) throw UserError(file + ": unreadable");
  return checkpoint::CheckpointStore(checkpoints()).path_of(j.at("step").get<int64_t>());
}

std::string RunDir::last_checkpoint() const {
  checkpoint::CheckpointStore store(checkpoints());
  auto ckpt = store.load_latest_valid([](const std::string& w) { std::fprintf(stderr, "warning: %s\n", w.c_str()); });
  return ckpt ? ckpt->path : "";
}

void RunDir::write_summary(const nlohmann::json& summary) const {
  io::write_file_atomic(path_ + "/summary.json", summary.dump(2) + "\n");
}

}  // namespace attnlab::run
