// Data-parallel training end to end, two processes with Gloo on loopback:
//   - `attnlab launch --nproc 2` with per-rank batch b ends with the parameters of one process
//     with batch 2b (float tolerance), also with gradient accumulation;
//   - workers started with torchrun's variables by the test train together, and refuse to when
//     their recipes differ;
//   - a killed worker makes the launcher stop the other and exit non-zero, naming the rank;
//   - a paused 2-process run resumes to exactly the parameters of a straight one;
//   - ZeRO-1 (distributed.shard_optimizer) gives exactly the unsharded parameters, keeps one
//     optimizer shard per rank in the checkpoint, and resumes exactly;
//   - `attnlab bench distributed` runs both trainings and reports them (timings are not checked).
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/cli_support.h"

namespace attnlab::testing {
namespace {

std::vector<std::string> short_run(const std::string& dir, int64_t batch, int64_t accum) {
  return {"train", source_path("recipes/quickstart.yaml"), "run_dir=" + dir, "train.steps=12",
          "train.batch_size=" + std::to_string(batch), "train.grad_accum=" + std::to_string(accum),
          "model.dropout=0", "train.eval_every=6", "train.threads=1", "train.progress=none",
          "distributed.timeout_s=30"};
}

std::string model_at(const std::string& dir, int step) {
  char name[32];
  std::snprintf(name, sizeof name, "step_%09d", step);
  return dir + "/checkpoints/" + name + "/model.pt";
}

std::vector<std::string> launched(int nproc, const std::vector<std::string>& worker) {
  std::vector<std::string> args = {"launch", "--nproc", std::to_string(nproc), "--"};
  args.insert(args.end(), worker.begin(), worker.end());
  return args;
}

TEST(DistributedCli, TwoProcessesEqualOneWithTheDoubleBatch) {
  const std::string one = make_temp_dir("dp-one"), two = make_temp_dir("dp-two");
  const auto a = run_attnlab(short_run(one, 16, 1));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  const auto b = run_attnlab(launched(2, short_run(two, 8, 1)));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_NE(b.output.find("[rank 1]"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("rank 0 of 2 (torchrun, gloo)"), std::string::npos) << b.output;
  std::string why;
  EXPECT_TRUE(archives_close(model_at(one, 12), model_at(two, 12), 2e-5, &why)) << why;

  // Gradient accumulation: 2 ranks x 2 micro-batches of 4 = one step of 16.
  const std::string accum = make_temp_dir("dp-accum");
  const auto c = run_attnlab(launched(2, short_run(accum, 4, 2)));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_TRUE(archives_close(model_at(one, 12), model_at(accum, 12), 2e-5, &why)) << why;
  // Only rank 0 writes the run directory's logs, and the validation it logs (sharded over the
  // ranks, put back together) is the single process's.
  const auto logs_one = lines_of(read_text(one + "/metrics.jsonl")), logs_two = lines_of(read_text(two + "/metrics.jsonl"));
  ASSERT_EQ(logs_two.size(), logs_one.size());
  const auto eval_one = nlohmann::json::parse(logs_one.back()), eval_two = nlohmann::json::parse(logs_two.back());
  ASSERT_EQ(eval_two.at("kind"), "eval");
  EXPECT_NEAR(eval_two.at("loss").get<double>(), eval_one.at("loss").get<double>(), 1e-5);
  EXPECT_EQ(eval_two.at("accuracy"), eval_one.at("accuracy"));
  EXPECT_EQ(eval_two.at("examples"), eval_one.at("examples"));
}

// Starts one worker with torchrun's variables, as torchrun would.
int start_worker(int rank, int port, const std::vector<std::string>& args, const std::string& log) {
  ::setenv("RANK", std::to_string(rank).c_str(), 1);
  ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("LOCAL_WORLD_SIZE", "2", 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
  const int pid = start_attnlab(args, log);
  for (const char* v : {"RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
  return pid;
}

TEST(DistributedCli, TorchrunVariablesWorkAndDifferentRecipesAreRefused) {
  const std::string dir = make_temp_dir("dp-torchrun");
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  auto args = short_run(dir + "/run", 8, 1);
  const int p0 = start_worker(0, port, args, dir + "/r0.log");
  const int p1 = start_worker(1, port, args, dir + "/r1.log");
  EXPECT_EQ(wait_for(p0), 0) << read_text(dir + "/r0.log");
  EXPECT_EQ(wait_for(p1), 0) << read_text(dir + "/r1.log");
  EXPECT_NE(read_text(dir + "/r0.log").find("completed after 12 steps"), std::string::npos);

  auto other = short_run(dir + "/run2", 8, 1);
  auto changed = other;
  changed.push_back("optim.lr=1e-3");
  const int q0 = start_worker(0, port + 1, other, dir + "/m0.log");
  const int q1 = start_worker(1, port + 1, changed, dir + "/m1.log");
  EXPECT_NE(wait_for(q0), 0);
  EXPECT_NE(wait_for(q1), 0);
  for (const char* log : {"/m0.log", "/m1.log"}) {
    EXPECT_NE(read_text(dir + log).find("resolved recipe's CRC32C of rank(s) 1"), std::string::npos) << read_text(dir + log);
    EXPECT_NE(read_text(dir + log).find("differs from rank 0's"), std::string::npos) << read_text(dir + log);
  }
}

std::vector<int> children_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<int> out;
  int c;
  while (in >> c) out.push_back(c);
  return out;
}

TEST(DistributedCli, AKilledWorkerStopsTheLauncherNamingTheRank) {
  const std::string dir = make_temp_dir("dp-kill");
  auto args = short_run(dir + "/run", 8, 1);
  args[3] = "train.steps=100000";
  args.push_back("distributed.timeout_s=10");
  const int launcher = start_attnlab(launched(2, args), dir + "/launch.log");
  // Wait until both workers train (the metrics log grows), then kill rank 1.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         read_text(dir + "/run/metrics.jsonl").find("\"step\":20") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto workers = children_of(launcher);
  ASSERT_EQ(workers.size(), 2u) << read_text(dir + "/launch.log");
  const auto killed_at = std::chrono::steady_clock::now();
  ::kill(workers[1], SIGKILL);
  const int code = wait_for(launcher);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, std::chrono::seconds(40));
  EXPECT_NE(code, 0);
  const std::string log = read_text(dir + "/launch.log");
  EXPECT_NE(log.find("rank 1 (pid " + std::to_string(workers[1]) + ") was killed by signal 9"), std::string::npos) << log;
}

TEST(DistributedCli, APausedRunResumesExactly) {
  const std::string straight = make_temp_dir("dp-straight"), paused = make_temp_dir("dp-paused");
  const auto a = run_attnlab(launched(2, short_run(straight, 8, 1)));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto first = short_run(paused, 8, 1);
  first.push_back("train.stop_after_steps=5");
  const auto b = run_attnlab(launched(2, first));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_NE(b.output.find("paused"), std::string::npos) << b.output;
  // One process cannot continue it: the data order depends on the number of processes.
  const auto single = run_attnlab(short_run(paused, 8, 1));
  EXPECT_EQ(single.exit_code, 2) << single.output;
  EXPECT_NE(single.output.find("written by a run of 2 process(es); this run has 1"), std::string::npos) << single.output;
  const auto c = run_attnlab(launched(2, short_run(paused, 8, 1)));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("resumed from"), std::string::npos) << c.output;
  std::string why;
  EXPECT_TRUE(archives_equal(model_at(straight, 12), model_at(paused, 12), &why)) << why;
}

TEST(DistributedCli, ShardedOptimizerStateGivesTheSameParametersAndResumes) {
  const std::string plain = make_temp_dir("dp-plain"), zero = make_temp_dir("dp-zero1"), paused = make_temp_dir("dp-zero1-paused");
  const auto a = run_attnlab(launched(2, short_run(plain, 8, 1)));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto sharded = short_run(zero, 8, 1);
  sharded.push_back("distributed.shard_optimizer=true");
  const auto b = run_attnlab(launched(2, sharded));
  ASSERT_EQ(b.exit_code, 0) << b.output;
  std::string why;
  EXPECT_TRUE(archives_equal(model_at(plain, 12), model_at(zero, 12), &why)) << why;
  char name[32];
  std::snprintf(name, sizeof name, "step_%09d", 12);
  const std::string ckpt = zero + "/checkpoints/" + name;
  // Each shard holds about half of the Adam moments: the two files are much smaller than one full state.
  const auto full = read_text(plain + "/checkpoints/" + name + "/optimizer.pt").size();
  const auto shard0 = read_text(ckpt + "/optimizer.pt").size(), shard1 = read_text(ckpt + "/optimizer.rank1.pt").size();
  EXPECT_LT(shard0, full * 3 / 4);
  EXPECT_LT(shard1, full * 3 / 4);

  auto first = short_run(paused, 8, 1);
  first.push_back("distributed.shard_optimizer=true");
  first.push_back("train.stop_after_steps=5");
  const auto c = run_attnlab(launched(2, first));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  // Without sharding the shards cannot be put back together: refused, naming the setting.
  const auto d = run_attnlab(launched(2, short_run(paused, 8, 1)));
  EXPECT_NE(d.exit_code, 0) << d.output;
  EXPECT_NE(d.output.find("distributed.shard_optimizer"), std::string::npos) << d.output;
  first.pop_back();
  const auto e = run_attnlab(launched(2, first));
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_TRUE(archives_equal(model_at(zero, 12), model_at(paused, 12), &why)) << why;
}

TEST(DistributedCli, LaunchPassesTheWorkersCommandThrough) {
  const auto r = run_attnlab({"launch", "--nproc", "1", "--", "train", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[rank 0] usage: attnlab train RECIPE"), std::string::npos) << r.output;
  const auto own = run_attnlab({"launch", "--help"});
  EXPECT_NE(own.output.find("usage: attnlab launch --nproc N"), std::string::npos) << own.output;
  const auto empty = run_attnlab({"launch", "--nproc", "2"});
  EXPECT_EQ(empty.exit_code, 2) << empty.output;
  EXPECT_NE(empty.output.find("nothing to launch"), std::string::npos) << empty.output;
}

TEST(DistributedCli, BenchReportsOneAgainstTwoProcesses) {
  const std::string dir = make_temp_dir("dp-bench");
  const auto r = run_attnlab({"bench", "distributed", "--steps", "8", "--batch", "8", "--recipe",
                              source_path("recipes/quickstart.yaml"), "--json", dir + "/bench.json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("examples/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("buckets left during backward"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_text(dir + "/bench.json"));
  EXPECT_GT(j.at("multi").at("examples_per_s").get<double>(), 0.0);
  EXPECT_EQ(j.at("multi").at("buckets"), 1);  // the quickstart model fits in one 25 MiB bucket
  const auto bad = run_attnlab({"bench", "distributed", "--recipe", dir + "/missing.yaml"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("missing.yaml not found"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace attnlab::testing
