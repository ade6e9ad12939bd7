#include "framework/distributed/environment.h"

#include <cstdlib>

#include "framework/errors.h"

namespace attnlab::distributed {
namespace {

int64_t integer(const Getenv& getenv, const std::string& name) {
  const std::string text = *getenv(name);
  size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) throw UserError("environment variable " + name + "='" + text + "' is not an integer");
  return v;
}

void check(const Environment& e, const std::string& rank_var, const std::string& size_var) {
  if (e.world_size < 1) throw UserError(size_var + " must be at least 1, got " + std::to_string(e.world_size));
  if (e.rank < 0 || e.rank >= e.world_size) {
    throw UserError(rank_var + "=" + std::to_string(e.rank) + " is outside 0.." + std::to_string(e.world_size - 1) +
                    " (" + size_var + "=" + std::to_string(e.world_size) + ")");
  }
  if (e.master_port < 1 || e.master_port > 65535) {
    throw UserError("master port " + std::to_string(e.master_port) + " is outside 1..65535");
  }
}

}  // namespace

std::optional<std::string> process_getenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first comma-separated entry outside brackets, with its first range expanded.
  size_t depth = 0, end = 0;
  for (; end < nodelist.size(); ++end) {
    if (nodelist[end] == '[') ++depth;
    if (nodelist[end] == ']') --depth;
    if (nodelist[end] == ',' && depth == 0) break;
  }
  const std::string entry = nodelist.substr(0, end);
  const auto open = entry.find('[');
  if (open == std::string::npos) return entry;
  const std::string prefix = entry.substr(0, open);
  std::string range = entry.substr(open + 1);
  range = range.substr(0, range.find_first_of(",]"));
  return prefix + range.substr(0, range.find('-'));
}

Environment detect_environment(const Getenv& getenv) {
  Environment e;
  if (getenv("RANK") && getenv("WORLD_SIZE")) {
    e.source = "torchrun";
    e.rank = integer(getenv, "RANK");
    e.world_size = integer(getenv, "WORLD_SIZE");
    e.local_rank = getenv("LOCAL_RANK") ? integer(getenv, "LOCAL_RANK") : e.rank;
    e.local_world_size = getenv("LOCAL_WORLD_SIZE") ? integer(getenv, "LOCAL_WORLD_SIZE") : e.world_size;
    if (getenv("MASTER_ADDR")) e.master_addr = *getenv("MASTER_ADDR");
    if (getenv("MASTER_PORT")) e.master_port = integer(getenv, "MASTER_PORT");
    check(e, "RANK", "WORLD_SIZE");
    return e;
  }
  if (getenv("SLURM_PROCID") && getenv("SLURM_NTASKS")) {
    e.source = "slurm";
    e.rank = integer(getenv, "SLURM_PROCID");
    e.world_size = integer(getenv, "SLURM_NTASKS");
    e.local_rank = getenv("SLURM_LOCALID") ? integer(getenv, "SLURM_LOCALID") : 0;
    if (getenv("SLURM_NTASKS_PER_NODE") && getenv("SLURM_NTASKS_PER_NODE")->find_first_not_of("0123456789") == std::string::npos) {
      e.local_world_size = integer(getenv, "SLURM_NTASKS_PER_NODE");
    } else if (getenv("SLURM_JOB_NUM_NODES")) {
      e.local_world_size = std::max<int64_t>(1, e.world_size / std::max<int64_t>(1, integer(getenv, "SLURM_JOB_NUM_NODES")));
    }
    if (getenv("MASTER_ADDR")) {
      e.master_addr = *getenv("MASTER_ADDR");
    } else if (getenv("SLURM_JOB_NODELIST")) {
      e.master_addr = first_slurm_host(*getenv("SLURM_JOB_NODELIST"));
    }
    if (getenv("MASTER_PORT")) {
      e.master_port = integer(getenv, "MASTER_PORT");
    } else if (getenv("SLURM_JOB_ID")) {
      e.master_port = 15000 + integer(getenv, "SLURM_JOB_ID") % 20000;
    }
    check(e, "SLURM_PROCID", "SLURM_NTASKS");
    return e;
  }
  return e;
}

}  // namespace attnlab::distributed
