// Crash-safe checkpoint directories (DESIGN.md §5). A checkpoint is a directory
//   <root>/step_000000123/{<files...>, manifest.json}
// written as: create <root>/.tmp-step_000000123-<pid>/, write and fsync every file, write and fsync
// manifest.json last (file names, sizes, CRC32C, step, caller metadata), rename the directory
// into place, fsync <root>. The manifest is the commit marker: a directory without a valid one,
// or whose files do not match it, is not a checkpoint. Loading walks checkpoints newest first
// and falls back past corrupt ones, reporting each it skips. One writer per root (rank 0).
// The directory protocol, including how a same-step replacement stays crash-safe, is described
// at the top of checkpoint_store.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnlab::checkpoint {

struct LoadedCheckpoint {
  int64_t step = 0;
  std::string path;                          // the checkpoint directory
  std::map<std::string, std::string> files;  // name -> bytes, checksums verified
  nlohmann::json meta;                       // what the caller passed to write()
};

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string root);

  const std::string& root() const { return root_; }

  // Writes a checkpoint for `step` atomically and returns its directory. An existing checkpoint
  // of the same step is replaced (atomically: the new one is complete before the old one goes).
  // File names are single path components other than manifest.json; a bad name or a negative
  // step throws std::invalid_argument before anything is written. I/O failures throw UserError
  // after removing the temporary directory and restoring a checkpoint moved aside.
  std::string write(int64_t step, const std::map<std::string, std::string>& files,
                    const nlohmann::json& meta);

  // Steps of directories that look like checkpoints (have a manifest), newest first. Not verified.
  std::vector<int64_t> steps() const;
  std::string path_of(int64_t step) const;

  // Loads and verifies one checkpoint directory (any path). Throws UserError naming the file and
  // what is wrong: missing manifest, unreadable manifest, missing file, size or checksum mismatch.
  static LoadedCheckpoint load(const std::string& dir);

  // The newest checkpoint that verifies; each corrupt one skipped is reported through `warn`
  // ("checkpoint .../step_000000200 is corrupt (model.pt: checksum mismatch (file is corrupt));
  // trying an earlier one"). nullopt when there is none. Every step_* directory is a candidate,
  // also one without a manifest (reported as such), and so is a step's .old-* directory when a
  // crash between the two renames of a replacement left no step_* of that step. `warn` may be
  // empty.
  std::optional<LoadedCheckpoint> load_latest_valid(
      const std::function<void(const std::string&)>& warn) const;

  // Deletes checkpoints except the newest `keep_last` and the steps in `keep` (e.g. the best).
  // Counts the directories steps() lists; keep_last < 1 throws std::invalid_argument.
  void prune(int keep_last, const std::vector<int64_t>& keep) const;
  // Deletes leftover .tmp-* directories from interrupted writes and obsolete .old-* ones; an
  // .old-* that is the only copy of its step (see load_latest_valid) is renamed back instead.
  // Call it at start-up, before any write, while no other process writes to this root.
  void remove_stale_temporaries() const;

  // Test seam: called with the name of each stage of write() ("files_written:<name>",
  // "manifest_written", "moved_aside" (only when replacing an existing step), "renamed"); a hook
  // that throws or kills the process simulates a crash at that stage. An empty hook disables it.
  static void set_fault_hook(std::function<void(const std::string& stage)> hook);

 private:
  std::string root_;
};

}  // namespace attnlab::checkpoint
