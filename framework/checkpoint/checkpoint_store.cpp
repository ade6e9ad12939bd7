// The directory protocol of the checkpoint store (DESIGN.md §5). Names under <root>:
//   step_%09d                 a committed checkpoint (its manifest.json is the commit marker)
//   .tmp-step_%09d-<pid>      a checkpoint being written; never read
//   .old-step_%09d-<pid>      a checkpoint being replaced by a newer write of the same step
//   .tmp-discard-<name>-<pid> a directory being deleted (renamed first, so a crash in the middle
//                             of deleting never leaves a half-deleted step_* behind)
// Invariant: at every instant a crash leaves each previously committed step either under its
// step_* name or, only while a same-step replacement is between its two renames, under .old-*
// with step_* absent. load_latest_valid reads such an orphaned .old-* in place of the missing
// step_*, and remove_stale_temporaries renames it back.
#include "framework/checkpoint/checkpoint_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "framework/checkpoint/manifest.h"
#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::checkpoint {
namespace {

namespace fs = std::filesystem;

const char* const kTmpPrefix = ".tmp-";
const char* const kOldPrefix = ".old-";
const char* const kDiscardPrefix = ".tmp-discard-";

std::function<void(const std::string&)>& fault_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

void fault_point(const std::string& stage) {
  if (fault_hook()) fault_hook()(stage);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string step_dir_name(int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "step_%09lld", static_cast<long long>(step));
  return buffer;
}

// The step of a canonical "step_%09d" name; anything else (step_1, step_x) is not ours.
std::optional<int64_t> parse_step_dir_name(const std::string& name) {
  if (!starts_with(name, "step_") || name.size() == 5 || name.size() > 5 + 18) return std::nullopt;
  int64_t step = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  if (step_dir_name(step) != name) return std::nullopt;
  return step;
}

// "step_000000123" from ".old-step_000000123-<pid>", or nullopt.
std::optional<std::string> step_name_of_old(const std::string& name) {
  if (!starts_with(name, kOldPrefix)) return std::nullopt;
  const auto dash = name.rfind('-');
  if (dash == std::string::npos || dash <= std::strlen(kOldPrefix)) return std::nullopt;
  std::string step_name = name.substr(std::strlen(kOldPrefix), dash - std::strlen(kOldPrefix));
  if (!parse_step_dir_name(step_name)) return std::nullopt;
  return step_name;
}

std::string pid_suffix() { return "-" + std::to_string(::getpid()); }

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Entry names under `root`, sorted; empty when `root` does not exist yet.
std::vector<std::string> list_names(const std::string& root) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return names;
    throw UserError(root + ": cannot list checkpoint directory: " + ec.message());
  }
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) throw UserError(root + ": cannot list checkpoint directory: " + ec.message());
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) throw UserError(path + ": cannot delete: " + ec.message());
}

void rename_or_throw(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    throw UserError(from + ": cannot rename to " + to + ": " + std::strerror(errno));
}

// Deletes root/name by first renaming it to a .tmp-discard-* name: the rename is atomic, so a
// crash during the (non-atomic) recursive delete leaves only a temporary, never a half checkpoint.
void discard(const std::string& root, const std::string& name) {
  const std::string doomed = root + "/" + kDiscardPrefix + name + pid_suffix();
  if (exists(doomed)) remove_tree(doomed);  // left by an earlier process with our pid
  rename_or_throw(root + "/" + name, doomed);
  remove_tree(doomed);
}

void ensure_root(const std::string& root) {
  std::error_code ec;
  const bool created = fs::create_directories(root, ec);
  if (ec) throw UserError(root + ": cannot create checkpoint directory: " + ec.message());
  // A freshly created root must itself survive a crash, or so would none of its checkpoints.
  if (created) io::fsync_dir(fs::absolute(root).parent_path().string());
}

struct Candidate {
  int64_t step;
  std::string path;
};

// Everything that may hold a committed checkpoint, newest first: every step_* directory (with or
// without a manifest, so a lost manifest is reported rather than silently ignored), plus an
// orphaned .old-step_* whose step_* is absent (a replacement interrupted between its renames).
std::vector<Candidate> candidates(const std::string& root) {
  std::vector<Candidate> found;
  const auto names = list_names(root);
  for (const auto& name : names) {
    const std::string path = root + "/" + name;
    if (auto step = parse_step_dir_name(name)) {
      if (is_directory(path)) found.push_back({*step, path});
    } else if (auto step_name = step_name_of_old(name)) {
      const int64_t step = *parse_step_dir_name(*step_name);
      const bool already_found = std::any_of(found.begin(), found.end(),
                                             [&](const Candidate& c) { return c.step == step; });
      if (!already_found && !exists(root + "/" + *step_name) &&
          is_regular_file(path + "/" + kManifestName))
        found.push_back({step, path});
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Candidate& a, const Candidate& b) { return a.step > b.step; });
  return found;
}

}  // namespace

CheckpointStore::CheckpointStore(std::string root) : root_(std::move(root)) {
  if (root_.empty()) throw std::invalid_argument("CheckpointStore: empty root directory");
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string CheckpointStore::path_of(int64_t step) const {
  return root_ + "/" + step_dir_name(step);
}

std::string CheckpointStore::write(int64_t step, const std::map<std::string, std::string>& files,
                                   const nlohmann::json& meta) {
  if (step < 0) throw std::invalid_argument("CheckpointStore::write: negative step");
  for (const auto& entry : files)
    if (!is_valid_file_name(entry.first))
      throw std::invalid_argument("CheckpointStore::write: invalid file name \"" + entry.first +
                                  "\" (one path component, not manifest.json)");
  // Serialised before anything touches the disk, so bad metadata cannot leave a partial write.
  const std::string manifest = make_manifest(step, files, meta).dump(2) + "\n";

  ensure_root(root_);
  const std::string name = step_dir_name(step);
  const std::string final_path = root_ + "/" + name;
  const std::string tmp_path = root_ + "/" + kTmpPrefix + name + pid_suffix();
  const std::string old_path = root_ + "/" + kOldPrefix + name + pid_suffix();

  // A temporary of this step left by a crashed writer (maybe with our pid, as in a restarted
  // container) is incomplete by definition.
  for (const auto& entry : list_names(root_))
    if (starts_with(entry, kTmpPrefix + name + "-")) remove_tree(root_ + "/" + entry);
  if (::mkdir(tmp_path.c_str(), 0755) != 0)
    throw UserError(tmp_path + ": cannot create directory: " + std::strerror(errno));

  bool moved_aside = false;
  bool committed = false;
  try {
    for (const auto& [file_name, bytes] : files) {
      io::write_file_synced(tmp_path + "/" + file_name, bytes);
      fault_point("files_written:" + file_name);
    }
    io::write_file_synced(tmp_path + "/" + kManifestName, manifest);
    fault_point("manifest_written");
    io::fsync_dir(tmp_path);

    if (exists(final_path)) {
      // step_* exists, so an .old-* of this name is a leftover of an earlier replacement.
      if (exists(old_path)) discard(root_, kOldPrefix + name + pid_suffix());
      rename_or_throw(final_path, old_path);
      moved_aside = true;
      io::fsync_dir(root_);
      fault_point("moved_aside");
    }
    rename_or_throw(tmp_path, final_path);
    committed = true;
    io::fsync_dir(root_);
    fault_point("renamed");
  } catch (...) {
    // Best effort: restore the previous checkpoint and drop the temporary, never masking the
    // original error. What this cannot undo, remove_stale_temporaries will.
    std::error_code ec;
    if (!committed) {
      if (moved_aside && !exists(final_path)) ::rename(old_path.c_str(), final_path.c_str());
      fs::remove_all(tmp_path, ec);
    } else if (moved_aside) {
      fs::remove_all(old_path, ec);
    }
    throw;
  }
  // The replaced checkpoint, and any orphan of this step from an earlier crash, are obsolete.
  for (const auto& entry : list_names(root_))
    if (starts_with(entry, kOldPrefix + name + "-")) discard(root_, entry);
  return final_path;
}

std::vector<int64_t> CheckpointStore::steps() const {
  std::vector<int64_t> result;
  for (const auto& name : list_names(root_)) {
    const auto step = parse_step_dir_name(name);
    if (step && is_regular_file(root_ + "/" + name + "/" + kManifestName)) result.push_back(*step);
  }
  std::sort(result.rbegin(), result.rend());
  return result;
}

LoadedCheckpoint CheckpointStore::load(const std::string& dir) {
  LoadedCheckpoint loaded;
  if (auto problem = verify_checkpoint(dir, &loaded))
    throw UserError("checkpoint " + dir + ": " + *problem);
  return loaded;
}

std::optional<LoadedCheckpoint> CheckpointStore::load_latest_valid(
    const std::function<void(const std::string&)>& warn) const {
  const auto found = candidates(root_);
  for (size_t i = 0; i < found.size(); ++i) {
    LoadedCheckpoint loaded;
    auto problem = verify_checkpoint(found[i].path, &loaded);
    // A manifest copied or renamed from another step would resume at the wrong position.
    if (!problem && loaded.step != found[i].step)
      problem = std::string(kManifestName) + ": records step " + std::to_string(loaded.step) +
                " but the directory is step " + std::to_string(found[i].step);
    if (!problem) return loaded;
    if (warn)
      warn("checkpoint " + found[i].path + " is corrupt (" + *problem + "); " +
           (i + 1 < found.size() ? "trying an earlier one" : "no earlier checkpoint to use"));
  }
  return std::nullopt;
}

void CheckpointStore::prune(int keep_last, const std::vector<int64_t>& keep) const {
  // Keeping none would delete the checkpoint just written; torchtitan refuses the same.
  if (keep_last < 1) throw std::invalid_argument("CheckpointStore::prune: keep_last must be >= 1");
  const auto all = steps();  // newest first
  const auto names = list_names(root_);
  for (size_t i = static_cast<size_t>(keep_last); i < all.size(); ++i) {
    if (std::find(keep.begin(), keep.end(), all[i]) != keep.end()) continue;
    const std::string name = step_dir_name(all[i]);
    // A stale .old-* of this step would otherwise outlive it and pass for an orphan (a
    // checkpoint whose replacement was interrupted), bringing the pruned step back.
    for (const auto& entry : names)
      if (starts_with(entry, kOldPrefix + name + "-")) discard(root_, entry);
    discard(root_, name);
  }
}

void CheckpointStore::remove_stale_temporaries() const {
  bool renamed = false;
  for (const auto& name : list_names(root_)) {
    const std::string path = root_ + "/" + name;
    if (starts_with(name, kTmpPrefix)) {
      remove_tree(path);
    } else if (auto step_name = step_name_of_old(name)) {
      const std::string final_path = root_ + "/" + *step_name;
      // An orphan is the only copy of its step: put it back rather than delete it.
      if (!exists(final_path) && is_regular_file(path + "/" + kManifestName)) {
        rename_or_throw(path, final_path);
        renamed = true;
      } else {
        discard(root_, name);
      }
    }
  }
  if (renamed) io::fsync_dir(root_);
}

void CheckpointStore::set_fault_hook(std::function<void(const std::string& stage)> hook) {
  fault_hook() = std::move(hook);
}

}  // namespace attnlab::checkpoint
