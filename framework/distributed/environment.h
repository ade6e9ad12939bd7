// Where this process sits in a data-parallel job, found in the order users start jobs:
//   1. torchrun (and `attnlab launch`): RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
//      MASTER_ADDR, MASTER_PORT;
//   2. SLURM (`srun attnlab train ...`): SLURM_PROCID, SLURM_LOCALID, SLURM_NTASKS,
//      SLURM_NTASKS_PER_NODE (or NTASKS / SLURM_JOB_NUM_NODES), the first host of
//      SLURM_JOB_NODELIST as the master, and a port derived from SLURM_JOB_ID
//      (15000 + job id mod 20000, as fairseq does), unless MASTER_ADDR / MASTER_PORT are set;
//   3. otherwise a single process (rank 0 of 1).
// Recipe keys (`distributed.rank`, ...) override what the environment says (settings.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace attnlab::distributed {

struct Environment {
  int64_t rank = 0;
  int64_t local_rank = 0;
  int64_t world_size = 1;
  int64_t local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  std::string source = "single process";  // "torchrun", "slurm", "recipe" or "single process"
  bool distributed() const { return world_size > 1; }
};

using Getenv = std::function<std::optional<std::string>(const std::string&)>;
// The process environment (std::getenv).
std::optional<std::string> process_getenv(const std::string& name);

// Throws UserError naming the variable for a malformed or inconsistent value (RANK >= WORLD_SIZE,
// a non-integer, a port outside 1..65535).
Environment detect_environment(const Getenv& getenv = process_getenv);

// The first host name of a SLURM node list: "gpu[07-09,12],cpu3" -> "gpu07".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace attnlab::distributed
