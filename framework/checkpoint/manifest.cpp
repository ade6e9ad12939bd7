// Builds and checks checkpoint manifests. A checkpoint is trusted only if its manifest parses,
// has the expected format and version, and every file it lists exists with the recorded size and
// CRC32C; anything else is reported as "<file>: <problem>" so the caller can say which file of
// which checkpoint is bad and fall back to an earlier one.
#include "framework/checkpoint/manifest.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::checkpoint {
namespace {

using nlohmann::json;

// Distinguishes "not there" from "there but unreadable": the first means the write never
// finished or the file was deleted, the second is usually permissions.
bool path_missing(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 && errno == ENOENT;
}

// Reads one file of the checkpoint; returns the problem if it cannot be read.
std::optional<std::string> read_member(const std::string& dir, const std::string& name,
                                       std::string* bytes) {
  const std::string path = dir + "/" + name;
  if (path_missing(path)) return name + ": missing";
  try {
    *bytes = io::read_file(path);
  } catch (const UserError& e) {
    return name + ": unreadable (" + e.what() + ")";
  }
  return std::nullopt;
}

bool is_unsigned_integer(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_number_unsigned();
}

std::string malformed(const std::string& why) {
  return std::string(kManifestName) + ": malformed (" + why + ")";
}

}  // namespace

bool is_valid_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name != kManifestName &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

json make_manifest(int64_t step, const std::map<std::string, std::string>& files,
                   const json& meta) {
  json listed = json::object();
  for (const auto& [name, bytes] : files)
    listed[name] = {{"size", bytes.size()}, {"crc32c", io::crc32c(bytes)}};
  return {{"format", kManifestFormat},
          {"version", kManifestVersion},
          {"step", step},
          {"files", listed},
          {"meta", meta}};
}

std::optional<std::string> verify_checkpoint(const std::string& dir, LoadedCheckpoint* out) {
  std::string text;
  if (auto problem = read_member(dir, kManifestName, &text)) {
    if (path_missing(dir + "/" + kManifestName))
      return std::string(kManifestName) + ": missing (the write did not complete)";
    return problem;
  }

  json manifest;
  try {
    manifest = json::parse(text);
  } catch (const json::parse_error& e) {
    return std::string(kManifestName) + ": not valid JSON (parse error at byte " +
           std::to_string(e.byte) + "; garbage or truncated)";
  }
  if (!manifest.is_object() || manifest.value("format", json()) != kManifestFormat)
    return std::string(kManifestName) + ": not an attnlab checkpoint manifest";
  if (!is_unsigned_integer(manifest, "version"))
    return malformed("\"version\" is not a non-negative integer");
  if (manifest.at("version").get<uint64_t>() != static_cast<uint64_t>(kManifestVersion))
    return std::string(kManifestName) + ": unsupported version " + manifest.at("version").dump() +
           " (this build reads version " + std::to_string(kManifestVersion) + ")";
  if (!manifest.contains("step") || !manifest.at("step").is_number_integer() ||
      manifest.at("step").get<int64_t>() < 0)
    return malformed("\"step\" is not a non-negative integer");
  if (!manifest.contains("files") || !manifest.at("files").is_object())
    return malformed("\"files\" is not an object");

  out->path = dir;
  out->step = manifest.at("step").get<int64_t>();
  out->meta = manifest.value("meta", json());
  out->files.clear();
  for (const auto& [name, entry] : manifest.at("files").items()) {
    // A name with a slash could make us read outside the checkpoint directory.
    if (!is_valid_file_name(name)) return malformed("invalid file name " + json(name).dump());
    if (!is_unsigned_integer(entry, "size") || !is_unsigned_integer(entry, "crc32c") ||
        entry.at("crc32c").get<uint64_t>() > 0xFFFFFFFFull)
      return malformed("entry for " + name + " needs unsigned \"size\" and 32-bit \"crc32c\"");

    std::string bytes;
    if (auto problem = read_member(dir, name, &bytes)) return problem;
    const uint64_t expected_size = entry.at("size").get<uint64_t>();
    if (bytes.size() != expected_size)
      return name + ": size mismatch (manifest says " + std::to_string(expected_size) +
             " bytes, file has " + std::to_string(bytes.size()) + "; truncated or corrupt)";
    if (io::crc32c(bytes) != entry.at("crc32c").get<uint64_t>())
      return name + ": checksum mismatch (file is corrupt)";
    out->files.emplace(name, std::move(bytes));
  }
  return std::nullopt;
}

}  // namespace attnlab::checkpoint
