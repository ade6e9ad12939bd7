// Finding a process's place in a job: torchrun's variables, SLURM's (node list and port from the
// job id), the recipe's explicit keys over both, and one-line errors for inconsistent values.
#include <gtest/gtest.h>

#include <map>

#include "framework/distributed/settings.h"
#include "tests/support/user_error.h"

namespace attnlab::distributed {
namespace {

Getenv env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistributedEnvironment, TorchrunVariables) {
  const auto e = detect_environment(env_of({{"RANK", "3"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "4"},
                                            {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(e.source, "torchrun");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_world_size, 2);
  EXPECT_EQ(e.master_addr, "node7");
  EXPECT_EQ(e.master_port, 1234);
  EXPECT_TRUE(e.distributed());
}

TEST(DistributedEnvironment, SlurmVariablesWithNodeListAndJobPort) {
  const auto e = detect_environment(env_of({{"SLURM_PROCID", "5"}, {"SLURM_LOCALID", "1"}, {"SLURM_NTASKS", "8"},
                                            {"SLURM_NTASKS_PER_NODE", "4"}, {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu3"},
                                            {"SLURM_JOB_ID", "123456"}}));
  EXPECT_EQ(e.source, "slurm");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_world_size, 4);
  EXPECT_EQ(e.master_addr, "gpu07");
  EXPECT_EQ(e.master_port, 15000 + 123456 % 20000);
  EXPECT_EQ(first_slurm_host("node1"), "node1");
  EXPECT_EQ(first_slurm_host("a[3-4],b"), "a3");
  EXPECT_EQ(first_slurm_host("x[10,12]"), "x10");
}

TEST(DistributedEnvironment, TorchrunWinsOverSlurmAndNothingMeansOneProcess) {
  const auto e = detect_environment(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}}));
  EXPECT_EQ(e.source, "torchrun");
  const auto single = detect_environment(env_of({}));
  EXPECT_FALSE(single.distributed());
  EXPECT_EQ(single.rank, 0);
}

TEST(DistributedEnvironment, RecipeKeysOverrideTheEnvironment) {
  DistributedSettings s;
  s.rank = 1;
  s.world_size = 2;
  s.master_port = 4321;
  const auto e = resolve_environment(s, env_of({{"RANK", "0"}, {"WORLD_SIZE", "3"}}));
  EXPECT_EQ(e.source, "recipe");
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_port, 4321);
  s.rank = 2;
  EXPECT_NE(testing::user_error_of([&] { resolve_environment(s, env_of({})); }).find("distributed.rank 2 is outside 0..1"),
            std::string::npos);
}

TEST(DistributedEnvironment, BadValuesAreNamed) {
  EXPECT_NE(testing::user_error_of([] { detect_environment(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})); })
                .find("RANK=2 is outside 0..1"),
            std::string::npos);
  EXPECT_NE(testing::user_error_of([] { detect_environment(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}})); })
                .find("RANK='x' is not an integer"),
            std::string::npos);
  EXPECT_NE(testing::user_error_of([] {
              detect_environment(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}));
            }).find("outside 1..65535"),
            std::string::npos);
}

}  // namespace
}  // namespace attnlab::distributed
