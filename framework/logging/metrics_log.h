// metrics.jsonl: one JSON object per line, per logged training step and per evaluation, every
// loss term separately. Lines are flushed as written; checkpoints record the file's size so a
// resumed run first cuts off the lines written after its checkpoint, and the file then reads as
// if the run had never stopped.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::logging {

class MetricsLog {
 public:
  // Opens `path` for appending (creating it). Throws UserError if it cannot.
  explicit MetricsLog(std::string path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  void write(const nlohmann::json& record);
  // Bytes written so far (flushed), for the checkpoint.
  int64_t size() const;
  // Durably stores what was written so far (called before a checkpoint records size()).
  void sync();
  // Drops everything after the first `bytes` bytes (resume); a file shorter than that is an error.
  void truncate_to(int64_t bytes);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace attnlab::logging
