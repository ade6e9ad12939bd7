#include "tools/bench/distributed_bench.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "framework/errors.h"
#include "tools/bench/child_process.h"
#include "tools/bench/median.h"

namespace attnlab::tools {
namespace {

namespace fs = std::filesystem;

// Runs `attnlab args...` with its output in `log`; UserError with the log's tail when it fails.
void run_self(const std::vector<std::string>& args, const std::string& log) {
  if (run_logged(args, log) != 0)
    throw UserError("bench distributed: `attnlab " + args[0] + "` failed:\n" + log_tail(log));
}

}  // namespace

DistributedBenchResult run_distributed_bench(const DistributedBenchSettings& s) {
  if (!fs::exists(s.recipe)) {
    throw UserError("--recipe: " + s.recipe + " not found (run from the repository root, or pass --recipe)");
  }
  const ScratchDir scratch("attnlab-bench");
  const std::string& dir = scratch.path();
  char bucket[32];
  std::snprintf(bucket, sizeof bucket, "%g", s.bucket_mb);
  const std::vector<std::string> common = {
      s.recipe, "train.steps=" + std::to_string(s.steps), "train.batch_size=" + std::to_string(s.batch),
      "train.threads=1", "train.progress=none", "train.eval_every=1000000000", "train.log_every=1",
      "eval.test_split=", std::string("distributed.bucket_mb=") + bucket};
  std::vector<std::string> single = {"train"};
  single.insert(single.end(), common.begin(), common.end());
  single.push_back("run_dir=" + dir + "/one");
  std::fprintf(stderr, "bench: 1 process, %lld steps\n", (long long)s.steps);
  run_self(single, dir + "/one.log");
  std::vector<std::string> multi = {"launch", "--nproc", std::to_string(s.nproc), "--", "train"};
  multi.insert(multi.end(), common.begin(), common.end());
  multi.push_back("run_dir=" + dir + "/multi");
  std::fprintf(stderr, "bench: %lld processes, %lld steps\n", (long long)s.nproc, (long long)s.steps);
  run_self(multi, dir + "/multi.log");

  auto wall = [&](const std::string& run) {
    std::ifstream in(dir + "/" + run + "/summary.json");
    return nlohmann::json::parse(in).at("wall_time_s").get<double>();
  };
  DistributedBenchResult r;
  const double t1 = wall("one"), tn = wall("multi");
  const double steps = static_cast<double>(s.steps), batch = static_cast<double>(s.batch);
  r.single_steps_per_s = steps / t1;
  r.single_examples_per_s = steps * batch / t1;
  r.multi_steps_per_s = steps / tn;
  r.multi_examples_per_s = steps * batch * static_cast<double>(s.nproc) / tn;
  r.speedup = r.multi_examples_per_s / r.single_examples_per_s;
  std::vector<double> waits, early;
  std::ifstream log(dir + "/multi/metrics.jsonl");
  std::string line;
  bool first = true;
  while (std::getline(log, line)) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("kind", "") != "train" || !j.contains("allreduce_wait_ms")) continue;
    if (first) {  // the first step includes the warm-up of every buffer
      first = false;
      continue;
    }
    waits.push_back(j.at("allreduce_wait_ms").get<double>());
    early.push_back(j.at("buckets_during_backward").get<double>());
    r.buckets = j.at("buckets").get<int64_t>();
  }
  r.median_wait_ms = waits.empty() ? 0.0 : median_of(waits);
  r.median_buckets_during_backward = early.empty() ? 0.0 : median_of(early);
  return r;
}

}  // namespace attnlab::tools
