// Measurement behind `attnlab bench attention`: per (module, T) a forked child builds the module,
// runs `warmup` untimed and `repeats` timed forward + backward iterations on x (B, T, D), and
// sends its row back as one JSON line through a pipe. See attention_bench.h.
#include "tools/bench/attention_bench.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/version.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>

#include "attention/mega/mega_attention.h"
#include "attention/mha/mha.h"
#include "attention/moh/moh.h"
#include "framework/errors.h"
#include "tools/bench/median.h"

namespace attnlab::tools {
namespace {

// MoH's configurations share 8 heads, 2 of them shared; mha uses the same 8 so the ratio compares
// equal head counts.
constexpr int64_t kHeads = 8;
constexpr int64_t kSharedHeads = 2;
constexpr int64_t kMegaChunk = 128;

// A "VmRSS:"-style field of /proc/self/status in KiB, or -1 when unreadable (non-Linux).
int64_t status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, field.size(), field) == 0) return std::stoll(line.substr(field.size()));
  return -1;
}

// Resets the peak-RSS counter (VmHWM) to the current RSS (Linux >= 4.0).
void reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

nlohmann::json row_to_json(const AttentionBenchRow& r) {
  return {{"module", r.module},           {"length", r.length},   {"ok", r.ok},
          {"error", r.error},             {"median_ms", r.median_ms}, {"min_ms", r.min_ms},
          {"peak_rss_mb", r.peak_rss_mb}, {"threads", r.threads}, {"parameters", r.parameters}};
}

AttentionBenchRow row_from_json(const nlohmann::json& j) {
  AttentionBenchRow r;
  r.module = j.at("module").get<std::string>();
  r.length = j.at("length").get<int64_t>();
  r.ok = j.at("ok").get<bool>();
  r.error = j.at("error").get<std::string>();
  r.median_ms = j.at("median_ms").get<double>();
  r.min_ms = j.at("min_ms").get<double>();
  r.peak_rss_mb = j.at("peak_rss_mb").get<double>();
  r.threads = j.at("threads").get<int64_t>();
  r.parameters = j.at("parameters").get<int64_t>();
  return r;
}

UserError unknown_module(const std::string& name) {
  std::string list;
  for (const auto& n : attention_bench_modules()) list += (list.empty() ? "" : ",") + n;
  return UserError("--modules: unknown module '" + name + "' (known: " + list + ")");
}

void check_settings(const AttentionBenchSettings& s) {
  if (s.lengths.empty()) throw UserError("--lengths: give at least one sequence length");
  for (int64_t t : s.lengths)
    if (t < 1) throw UserError("--lengths: every length must be >= 1 (got " + std::to_string(t) + ")");
  if (s.d_model < kHeads || s.d_model % kHeads != 0)
    throw UserError("--d-model " + std::to_string(s.d_model) + ": must be a positive multiple of " +
                    std::to_string(kHeads) + " (the heads of mha and moh)");
  if (s.batch < 1) throw UserError("--batch must be >= 1 (got " + std::to_string(s.batch) + ")");
  if (s.repeats < 1) throw UserError("--repeats must be >= 1 (got " + std::to_string(s.repeats) + ")");
  if (s.warmup < 0) throw UserError("--warmup must be >= 0 (got " + std::to_string(s.warmup) + ")");
  if (s.threads < 0) throw UserError("--threads must be >= 0 (got " + std::to_string(s.threads) + ")");
  // Names only: the parent must not build modules (see measure_attention_isolated).
  const auto& known = attention_bench_modules();
  for (const auto& m : s.modules)
    if (std::find(known.begin(), known.end(), m) == known.end()) throw unknown_module(m);
}

}  // namespace

const std::vector<std::string>& attention_bench_modules() {
  static const std::vector<std::string> names = {"mha",        "moh100", "moh75", "moh75_skip",
                                                 "moh50",      "moh50_skip", "mega", "mega_chunk"};
  return names;
}

attention::AttentionPtr make_bench_module(const std::string& name, int64_t d_model, int64_t length) {
  using namespace attention;
  if (name == "mha") {
    MhaOptions o;
    o.d_model = d_model;
    o.heads = kHeads;
    return std::make_shared<MultiHeadAttention>(o);
  }
  // moh<P>[_skip]: P% of the 8 heads active per token = 2 shared + K routed of the other 6.
  static const std::map<std::string, std::pair<int64_t, bool>> moh = {
      {"moh100", {6, false}}, {"moh75", {4, false}}, {"moh75_skip", {4, true}},
      {"moh50", {2, false}},  {"moh50_skip", {2, true}}};
  const auto it = moh.find(name);
  if (it != moh.end()) {
    MohOptions o;
    o.d_model = d_model;
    o.heads = kHeads;
    o.shared_heads = kSharedHeads;
    o.routed_topk = it->second.first;
    o.skip_unselected = it->second.second;
    return std::make_shared<MixtureOfHeadsAttention>(o);
  }
  if (name == "mega" || name == "mega_chunk") {
    MegaOptions o;
    o.d_model = d_model;
    if (name == "mega") o.max_positions = std::max<int64_t>(length, 1);  // full attention: table >= T
    else o.chunk_size = kMegaChunk;
    return std::make_shared<MegaAttention>(o);
  }
  throw unknown_module(name);
}

AttentionBenchRow measure_attention(const std::string& module, int64_t length,
                                    const AttentionBenchSettings& settings) {
  AttentionBenchRow row;
  row.module = module;
  row.length = length;
  try {
    if (settings.threads > 0) torch::set_num_threads(static_cast<int>(settings.threads));
    row.threads = torch::get_num_threads();
    torch::manual_seed(0);
    // Torch's lazy one-time setup (allocator, autograd engine, thread pool) would add a constant
    // of about 18 MiB to every row; pay it before the baseline so the growth is the module's own.
    {
      const torch::Tensor a = torch::randn({8, 8}, torch::requires_grad());
      torch::matmul(a, a).softmax(-1).sum().backward();
    }
    // Baseline after the fork, before the module and its input exist: the growth counts them.
    reset_peak_rss();  // if refused, VmHWM counts from the fork, when RSS was this baseline anyway
    const int64_t rss_before = status_kib("VmRSS:");

    attention::AttentionPtr net = make_bench_module(module, settings.d_model, length);
    net->train();  // the training step is what the bench times (MoH's router returns its aux loss)
    for (const auto& p : net->parameters()) row.parameters += p.numel();
    const torch::Tensor x =
        torch::randn({settings.batch, length, settings.d_model}, torch::requires_grad());  // (B, T, D)

    std::vector<double> times_ms;
    for (int64_t i = 0; i < settings.warmup + settings.repeats; ++i) {
      net->zero_grad();
      x.mutable_grad().reset();
      attention::ForwardContext ctx;  // records nothing, so MoH's skip path is allowed
      const auto start = std::chrono::steady_clock::now();
      attention::AttentionCall call;
      call.x = x;
      const attention::AttentionOutput out = net->forward(call, ctx, "bench");
      out.out.sum().backward();
      const auto stop = std::chrono::steady_clock::now();
      if (i >= settings.warmup)
        times_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    }
    row.median_ms = median_of(times_ms);
    row.min_ms = *std::min_element(times_ms.begin(), times_ms.end());
    const int64_t peak = status_kib("VmHWM:");
    if (peak >= 0 && rss_before >= 0) row.peak_rss_mb = std::max<int64_t>(0, peak - rss_before) / 1024.0;
    row.ok = true;
  } catch (const c10::Error& e) {
    row.error = first_line(e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    row.error = "out of memory";
  } catch (const std::exception& e) {
    row.error = first_line(e.what());
  }
  return row;
}

AttentionBenchRow measure_attention_isolated(const std::string& module, int64_t length,
                                             const AttentionBenchSettings& settings) {
  AttentionBenchRow failed;
  failed.module = module;
  failed.length = length;
  int fds[2];
  if (pipe(fds) != 0) {
    failed.error = std::string("pipe: ") + std::strerror(errno);
    return failed;
  }
  std::fflush(nullptr);  // the child must not re-flush the parent's buffered output
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    failed.error = std::string("fork: ") + std::strerror(errno);
    return failed;
  }
  if (pid == 0) {
    close(fds[0]);
    const std::string line = row_to_json(measure_attention(module, length, settings)).dump() + "\n";
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = write(fds[1], line.data() + done, line.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(done == line.size() ? 0 : 3);  // no atexit handlers or static destructors in the child
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) text.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    failed.error = "child killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")" +
                   (sig == SIGKILL ? ", likely out of memory" : "");
    return failed;
  }
  try {
    return row_from_json(nlohmann::json::parse(text));
  } catch (const std::exception&) {
    failed.error = "child exited with code " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                   " without a result";
    return failed;
  }
}

std::vector<AttentionBenchRow> run_attention_bench(
    const AttentionBenchSettings& settings, const std::function<void(const AttentionBenchRow&)>& on_row) {
  check_settings(settings);
  const std::vector<std::string>& modules =
      settings.modules.empty() ? attention_bench_modules() : settings.modules;
  std::vector<AttentionBenchRow> rows;
  for (const auto& m : modules)
    for (int64_t t : settings.lengths) {
      rows.push_back(measure_attention_isolated(m, t, settings));
      if (on_row) on_row(rows.back());
    }
  std::map<int64_t, double> mha_ms;
  for (const auto& r : rows)
    if (r.module == "mha" && r.ok) mha_ms[r.length] = r.median_ms;
  for (auto& r : rows) {
    const auto it = mha_ms.find(r.length);
    if (r.ok && it != mha_ms.end() && it->second > 0.0) r.ratio_to_mha = r.median_ms / it->second;
  }
  return rows;
}

std::string torch_version_string() { return TORCH_VERSION; }

}  // namespace attnlab::tools
