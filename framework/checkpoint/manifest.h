// The checkpoint manifest (manifest.json), the commit marker of a checkpoint directory:
//   {"format": "attnlab-checkpoint", "version": 1, "step": N,
//    "files": {name: {"size": bytes, "crc32c": checksum}}, "meta": {...caller's...}}
// and the verification of a directory against it. Internal to framework/checkpoint.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "framework/checkpoint/checkpoint_store.h"

namespace attnlab::checkpoint {

inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kManifestFormat = "attnlab-checkpoint";
inline constexpr int kManifestVersion = 1;

// A file name a checkpoint may hold: one path component, not "." or "..", not the manifest.
bool is_valid_file_name(const std::string& name);

nlohmann::json make_manifest(int64_t step, const std::map<std::string, std::string>& files,
                             const nlohmann::json& meta);

// Reads `dir`'s manifest and every file it lists, checking sizes and CRC32C. Returns nullopt and
// fills `out` when the checkpoint is intact; otherwise returns the problem as "<file>: <what>"
// (e.g. "model.pt: checksum mismatch (file is corrupt)") and leaves `out` unspecified.
std::optional<std::string> verify_checkpoint(const std::string& dir, LoadedCheckpoint* out);

}  // namespace attnlab::checkpoint
