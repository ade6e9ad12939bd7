// `attnlab launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P] -- ARGS`:
// starts N local workers of `attnlab ARGS` with torchrun's variables (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), prefixes each line they print with its rank,
// forwards SIGINT/SIGTERM, and when a worker fails stops the others and exits non-zero naming it.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "framework/errors.h"
#include "tools/commands/commands.h"
#include "tools/commands/exec_self.h"
#include "tools/commands/option_values.h"

namespace attnlab::tools {
namespace {

const char* kHelp =
    "usage: attnlab launch --nproc N [--nnodes M --node-rank R] [--master-addr A] [--master-port P]\n"
    "                      [--grace S] -- train RECIPE [key=value ...]\n"
    "\n"
    "Starts N worker processes of `attnlab train ...` on this machine for data-parallel training (Gloo on\n"
    "CPU), with the variables torchrun sets: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR,\n"
    "MASTER_PORT. Lines the workers print are prefixed with [rank R]. SIGINT/SIGTERM are forwarded (each\n"
    "worker saves a checkpoint and exits; rerun the same command to resume). When a worker fails, the\n"
    "others get SIGTERM, then SIGKILL after --grace seconds (default 10), and launch exits with the\n"
    "failed worker's code, naming its rank. Multi-node: run it on every node with --nnodes, --node-rank\n"
    "and the same --master-addr/--master-port. `torchrun --no-python --nproc-per-node N attnlab train ...`\n"
    "and `srun attnlab train ...` work too.\n";

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

// A port the OS reports free on the loopback interface (for a single-node job).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw UserError("could not find a free port; pass --master-port");
  }
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

struct Worker {
  int rank = 0;
  pid_t pid = -1;
  int out = -1;          // read end of its stdout+stderr
  std::string partial;   // an unfinished line
  bool running = true;
  int status = 0;
};

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

int exit_code_of(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

void print_lines(Worker& w, const char* data, size_t n, bool flush_partial) {
  w.partial.append(data, n);
  size_t start = 0, nl;
  while ((nl = w.partial.find('\n', start)) != std::string::npos) {
    std::printf("[rank %d] %s\n", w.rank, w.partial.substr(start, nl - start).c_str());
    start = nl + 1;
  }
  w.partial.erase(0, start);
  if (flush_partial && !w.partial.empty()) {
    std::printf("[rank %d] %s\n", w.rank, w.partial.c_str());
    w.partial.clear();
  }
  std::fflush(stdout);
}

}  // namespace

int launch_command(const Args& args) {
  // A --help after `--` is the worker command's.
  const auto separator = std::find(args.begin(), args.end(), std::string("--"));
  if (wants_help(Args(args.begin(), separator)) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  int64_t nproc = 0, nnodes = 1, node_rank = 0, port = 0, grace = 10;
  std::string addr = "127.0.0.1";
  Args worker_args;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      worker_args.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (i + 1 >= args.size()) throw UserError(a + ": needs a value (see attnlab launch --help)");
    const std::string& v = args[++i];
    if (a == "--nproc") nproc = parse_int_option(a, v, 1);
    else if (a == "--nnodes") nnodes = parse_int_option(a, v, 1);
    else if (a == "--node-rank") node_rank = parse_int_option(a, v, 0);
    else if (a == "--master-port") port = parse_int_option(a, v, 1);
    else if (a == "--grace") grace = parse_int_option(a, v, 0);
    else if (a == "--master-addr") addr = v;
    else throw UserError("unknown option '" + a + "' (see attnlab launch --help)");
  }
  if (nproc < 1) throw UserError("--nproc N is required");
  if (worker_args.empty()) throw UserError("nothing to launch: put the command after --, e.g. -- train RECIPE");
  if (node_rank < 0 || node_rank >= nnodes) throw UserError("--node-rank must be in 0.." + std::to_string(nnodes - 1));
  if (nnodes > 1 && port == 0) throw UserError("--master-port is required with --nnodes > 1 (the same on every node)");
  if (port == 0) port = free_port();
  if (port > 65535) throw UserError("--master-port must be at most 65535");
  const int64_t world = nproc * nnodes;

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<Worker> workers(static_cast<size_t>(nproc));
  for (int64_t local = 0; local < nproc; ++local) {
    Worker& w = workers[static_cast<size_t>(local)];
    w.rank = static_cast<int>(node_rank * nproc + local);
    int fds[2];
    if (::pipe(fds) != 0) throw UserError("cannot create a pipe for worker output");
    const pid_t pid = ::fork();
    if (pid < 0) throw UserError("cannot start worker " + std::to_string(w.rank));
    if (pid == 0) {
      // Its own process group: a terminal's Ctrl-C reaches the launcher only, which forwards it once.
      ::setpgid(0, 0);
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::setenv("RANK", std::to_string(w.rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(local).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      exec_self(worker_args);
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);  // the loop below drains what is there and moves on
    w.pid = pid;
    w.out = fds[0];
  }
  std::fprintf(stderr, "attnlab launch: %lld workers (ranks %lld..%lld of %lld), rendezvous at %s:%lld\n",
               (long long)nproc, (long long)(node_rank * nproc), (long long)(node_rank * nproc + nproc - 1),
               (long long)world, addr.c_str(), (long long)port);

  int failed_code = 0;
  bool stopping = false;
  int forwarded = 0;
  std::chrono::steady_clock::time_point kill_at{};
  auto stop_others = [&](int sig) {
    for (auto& o : workers)
      if (o.running) ::kill(o.pid, sig);
  };
  for (;;) {
    if (g_signal && forwarded != g_signal) {
      forwarded = g_signal;
      std::fprintf(stderr, "attnlab launch: forwarding %s to the workers\n", strsignal(g_signal));
      stop_others(g_signal);
    }
    std::vector<pollfd> fds;
    for (auto& w : workers)
      if (w.out >= 0) fds.push_back({w.out, POLLIN, 0});
    if (!fds.empty()) ::poll(fds.data(), fds.size(), 100);
    else ::usleep(100 * 1000);
    for (auto& w : workers) {
      if (w.out < 0) continue;
      char buf[4096];
      ssize_t n;
      bool eof = false;
      while ((n = ::read(w.out, buf, sizeof buf)) > 0) print_lines(w, buf, static_cast<size_t>(n), false);
      if (n == 0) eof = true;
      if (eof) {
        print_lines(w, "", 0, true);
        ::close(w.out);
        w.out = -1;
      }
    }
    for (auto& w : workers) {
      if (!w.running) continue;
      int status = 0;
      if (::waitpid(w.pid, &status, WNOHANG) != w.pid) continue;
      w.running = false;
      w.status = status;
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && !stopping && !g_signal) {
        failed_code = exit_code_of(status);
        std::fprintf(stderr, "attnlab launch: rank %d (pid %d) %s; stopping the other workers\n", w.rank, (int)w.pid,
                     describe_status(status).c_str());
        stopping = true;
        stop_others(SIGTERM);
        kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(grace);
      }
    }
    if (stopping && std::chrono::steady_clock::now() >= kill_at) stop_others(SIGKILL);
    bool any = false;
    for (auto& w : workers) any = any || w.running || w.out >= 0;
    if (!any) break;
  }
  if (failed_code) return failed_code;
  for (auto& w : workers) {
    if (!(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0)) {
      std::fprintf(stderr, "attnlab launch: rank %d %s\n", w.rank, describe_status(w.status).c_str());
      return exit_code_of(w.status);
    }
  }
  return 0;
}

}  // namespace attnlab::tools
