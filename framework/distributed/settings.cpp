#include "framework/distributed/settings.h"

#include "framework/errors.h"
#include "framework/registry/catalog.h"

namespace attnlab::distributed {

config::Schema distributed_schema() {
  config::Schema s("data-parallel training over c10d (ranks from torchrun, SLURM, `attnlab launch` or these keys)");
  s.add_string("backend", "auto", "auto (nccl on cuda, gloo on cpu), gloo or nccl").one_of({"auto", "gloo", "nccl"});
  s.add_float("timeout_s", 120.0, "seconds before a silent rank is declared lost (rendezvous and every collective)")
      .at_least(1);
  s.add_float("bucket_mb", 25.0, "size of the gradient all-reduce buckets, in MiB").at_least(0.001);
  s.add_bool("shard_optimizer", false,
             "ZeRO-1: each rank keeps the optimizer state of its share of the parameters, updates those and "
             "broadcasts them (same results, 1/N of the optimizer memory)");
  s.add_int("rank", -1, "this process's rank (-1: from RANK or SLURM_PROCID)").at_least(-1);
  s.add_int("world_size", 0, "number of processes (0: from WORLD_SIZE or SLURM_NTASKS)").at_least(0);
  s.add_string("master_addr", "", "rendezvous host (\"\": MASTER_ADDR, the first SLURM node, or 127.0.0.1)");
  s.add_int("master_port", 0, "rendezvous port (0: MASTER_PORT, from SLURM_JOB_ID, or 29500)").at_least(0).at_most(65535);
  return s;
}

DistributedSettings read_distributed_settings(const config::Value* section) {
  config::Value copy = section && section->is_map() ? *section : config::Value::map();
  std::vector<config::Problem> problems;
  config::validate(copy, distributed_schema(), "distributed", registry::Catalog::global().lookup(), problems);
  config::throw_if_problems(problems);
  const config::Section s(&copy, "distributed");
  DistributedSettings d;
  d.backend = s.get_string("backend");
  d.timeout_s = s.get_float("timeout_s");
  d.bucket_mb = s.get_float("bucket_mb");
  d.shard_optimizer = s.get_bool("shard_optimizer");
  d.rank = s.get_int("rank");
  d.world_size = s.get_int("world_size");
  d.master_addr = s.get_string("master_addr");
  d.master_port = s.get_int("master_port");
  return d;
}

Environment resolve_environment(const DistributedSettings& settings, const Getenv& getenv) {
  Environment e = detect_environment(getenv);
  if (settings.rank >= 0 || settings.world_size > 0) {
    e.source = "recipe";
    if (settings.rank >= 0) e.rank = settings.rank;
    if (settings.world_size > 0) e.world_size = settings.world_size;
    if (e.rank >= e.world_size) {
      throw UserError("distributed.rank " + std::to_string(e.rank) + " is outside 0.." + std::to_string(e.world_size - 1) +
                      " (world size " + std::to_string(e.world_size) + ")");
    }
  }
  if (!settings.master_addr.empty()) e.master_addr = settings.master_addr;
  if (settings.master_port > 0) e.master_port = settings.master_port;
  return e;
}

}  // namespace attnlab::distributed
