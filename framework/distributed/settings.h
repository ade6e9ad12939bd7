// The `distributed:` recipe section: the backend, the timeout after which a silent rank is
// declared lost, the gradient bucket size, and explicit rank keys that override the environment
// (environment.h). `attnlab list section distributed` documents every key.
#pragma once

#include <cstdint>
#include <string>

#include "framework/config/schema.h"
#include "framework/config/section.h"
#include "framework/config/value.h"
#include "framework/distributed/environment.h"

namespace attnlab::distributed {

struct DistributedSettings {
  std::string backend = "auto";  // auto (nccl for cuda, gloo for cpu) | gloo | nccl
  double timeout_s = 120.0;      // rendezvous and every collective
  double bucket_mb = 25.0;       // gradient all-reduce buckets
  bool shard_optimizer = false;  // ZeRO-1: each rank keeps the optimizer state of its parameters only
  int64_t rank = -1;             // < 0: from the environment
  int64_t world_size = 0;        // 0: from the environment
  std::string master_addr;       // "": from the environment
  int64_t master_port = 0;       // 0: from the environment
};

config::Schema distributed_schema();
// From the recipe's `distributed` map (absent: defaults), already validated with the recipe.
DistributedSettings read_distributed_settings(const config::Value* section);
// The environment with the recipe's explicit keys applied; UserError naming the key when the
// result is inconsistent (rank >= world_size).
Environment resolve_environment(const DistributedSettings& settings, const Getenv& getenv = process_getenv);

}  // namespace attnlab::distributed
