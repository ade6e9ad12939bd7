#include "framework/run/run_info.h"

#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <thread>

#include <torch/torch.h>

#include "framework/io/files.h"
#include "framework/run/build_info.h"

namespace attnlab::run {
namespace {

// The value of the first "key : value" line of a /proc file starting with `key`, or "".
std::string proc_field(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const auto begin = line.find_first_not_of(" \t", colon + 1);
    return begin == std::string::npos ? "" : line.substr(begin);
  }
  return "";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

nlohmann::json machine_and_build() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const std::string mem_kb = proc_field("/proc/meminfo", "MemTotal");  // "131072000 kB"
  double memory_gb = 0;
  try {
    memory_gb = std::stod(mem_kb) / (1024.0 * 1024.0);
  } catch (const std::exception&) {
  }
  return {{"git_commit", build_git_commit()},
          {"git_dirty", build_git_dirty()},
          {"libtorch", TORCH_VERSION},
          {"hostname", host},
          {"cpu_model", proc_field("/proc/cpuinfo", "model name")},
          {"cores", std::thread::hardware_concurrency()},
          {"memory_gb", memory_gb},
          {"cuda_devices", torch::cuda::is_available() ? torch::cuda::device_count() : 0}};
}

double peak_resident_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

RunInfo::RunInfo(std::string run_dir, const nlohmann::json& extra)
    : path_(std::move(run_dir) + "/run_info.json"), start_(std::chrono::steady_clock::now()) {
  try {
    info_ = nlohmann::json::parse(io::read_file(path_));
  } catch (const std::exception&) {
    info_ = nlohmann::json::object();  // absent or damaged: this invocation starts the record
  }
  if (!info_.is_object() || !info_.contains("invocations") || !info_["invocations"].is_array())
    info_ = {{"invocations", nlohmann::json::array()}};
  nlohmann::json record = machine_and_build();
  record["started"] = utc_now();
  record["status"] = "running";
  for (const auto& [key, value] : extra.items()) record[key] = value;
  info_["invocations"].push_back(record);
  write();
}

void RunInfo::finish(const std::string& status, int64_t step) {
  auto& record = info_["invocations"].back();
  record["status"] = status;
  record["step"] = step;
  record["finished"] = utc_now();
  record["wall_time_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  record["peak_resident_mib"] = peak_resident_mib();
  write();
}

void RunInfo::write() const { io::write_file_atomic(path_, info_.dump(2) + "\n"); }

}  // namespace attnlab::run
