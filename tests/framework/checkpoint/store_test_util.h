// Shared by the checkpoint store tests: distinguishable checkpoint contents per step and version,
// a listing of the store root, and a warning collector.
#pragma once

#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "framework/checkpoint/checkpoint_store.h"

namespace attnlab::testing {

// Binary contents (with NUL and high bytes) unique to (step, version), several KB per file so a
// truncation or a byte flip lands in real data.
inline std::map<std::string, std::string> checkpoint_files(int64_t step, int version = 1) {
  std::string model(4096 + step % 7, '\0'), optim(1500, '\0');
  for (size_t i = 0; i < model.size(); ++i)
    model[i] = static_cast<char>((i * 7 + static_cast<size_t>(step) * 13 + version * 101) % 256);
  for (size_t i = 0; i < optim.size(); ++i)
    optim[i] = static_cast<char>((i * 3 + static_cast<size_t>(step) + version * 29) % 256);
  return {{"model.pt", model}, {"optim.pt", optim}, {"empty.bin", ""}};
}

inline nlohmann::json checkpoint_meta(int64_t step, int version = 1) {
  return {{"step", step}, {"version_tag", version}, {"rng", {1, 2, 3}}};
}

// Names directly under `dir`, sorted.
inline std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename());
  return names;
}

// The fault-hook stages of write(), in order, for checkpoint_files(): a new step, and a step that
// replaces an existing one (which moves the old directory aside before renaming the new one in).
inline std::vector<std::string> new_step_stages() {
  return {"files_written:empty.bin", "files_written:model.pt", "files_written:optim.pt",
          "manifest_written", "renamed"};
}
inline std::vector<std::string> replace_stages() {
  return {"files_written:empty.bin", "files_written:model.pt", "files_written:optim.pt",
          "manifest_written", "moved_aside", "renamed"};
}

// A gtest parameter name from a stage ("files_written:model.pt" -> "files_written_model_pt").
inline std::string stage_identifier(std::string stage) {
  for (char& c : stage)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return stage;
}

struct Warnings {
  std::vector<std::string> messages;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& m) { messages.push_back(m); };
  }
};

}  // namespace attnlab::testing
