// Append-only JSON-lines metrics file with resume truncation.
#include "framework/logging/metrics_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework/errors.h"

namespace attnlab::logging {

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) throw UserError(path_ + ": cannot open for writing: " + std::strerror(errno));
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
    throw UserError(path_ + ": write failed: " + std::strerror(errno));
}

int64_t MetricsLog::size() const {
  std::fflush(file_);
  return static_cast<int64_t>(std::ftell(file_));
}

void MetricsLog::sync() {
  std::fflush(file_);
  ::fsync(fileno(file_));
}

void MetricsLog::truncate_to(int64_t bytes) {
  std::fflush(file_);
  const int64_t current = size();
  if (current < bytes) {
    throw UserError(path_ + ": has " + std::to_string(current) + " bytes but the checkpoint expects " +
                    std::to_string(bytes) + "; the metrics log was truncated or replaced");
  }
  if (::ftruncate(fileno(file_), bytes) != 0)
    throw UserError(path_ + ": cannot truncate: " + std::strerror(errno));
  std::fseek(file_, 0, SEEK_END);  // appends continue at the new end
}

}  // namespace attnlab::logging
