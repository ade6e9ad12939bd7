// `attnlab reproduce`: trains the recipes of a suite (recipes/suites/<suite>.yaml) and puts each
// paper claim beside our result. Each run is `attnlab train RECIPE overrides... run_dir=...` in a
// child process of this binary, so a run that fails (or crashes) costs only its own row, and a
// rerun resumes every run directory exactly as `attnlab train` does (a finished run only reports).
// The result is read afterwards from a JSON file of the run directory: summary.json, or
// abstention/results.json for the abstention stage.
#include "tools/commands/reproduce_command.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/config/did_you_mean.h"
#include "framework/config/loader.h"
#include "framework/errors.h"
#include "framework/io/files.h"
#include "framework/run/recipe.h"
#include "tools/commands/exec_self.h"
#include "tools/commands/reproduce_suite.h"

namespace fs = std::filesystem;

namespace attnlab::tools {
namespace {

using reproduce::Row;
using reproduce::Suite;
using reproduce::join;
using reproduce::known_suites;
using reproduce::locate_suite;
using reproduce::read_suite;
using reproduce::is_override;
using reproduce::override_key;
using config::Value;
using Problems = std::vector<std::string>;

const char* kHelp =
    "usage: attnlab reproduce SUITE|SUITE_FILE [--output DIR] [--dry-run] [--only NAME ...] [key=value ...]\n"
    "       attnlab reproduce --list\n"
    "\n"
    "Trains every run of a suite of paper recipes, one `attnlab train` child process each, then prints\n"
    "the table of paper claim, our result, run directory and time, and saves it as DIR/SUITE/table.md\n"
    "and DIR/SUITE/results.json (DIR default runs/reproduce). A suite is recipes/suites/SUITE.yaml\n"
    "(looked up in ./recipes/suites, then beside the binary's build folder) or a suite file:\n"
    "\n"
    "  description: what the suite checks\n"
    "  overrides: [train.threads=1]            # optional, for every run\n"
    "  runs:\n"
    "    - recipe: ../moh/digits_vit_moh75.yaml  # relative to the suite file\n"
    "      name: moh75                         # optional: run directory DIR/SUITE/NAME (default: recipe's stem)\n"
    "      overrides: [seed=1]                 # optional\n"
    "      claim: MoH-ViT-B 84.9% top-1 at 75% heads vs 84.8% MHA (ImageNet-1K)\n"
    "      metric: final.test.accuracy         # dotted path; a list: the first path present\n"
    "      file: summary.json                  # optional, in the run directory\n"
    "      expected: 0.967                     # optional: our earlier result, in the metric's units\n"
    "\n"
    "Runs with the same name share one training (read for different metrics). On a list, a path\n"
    "segment is an index or the element whose method, condition or name equals it\n"
    "(clean.methods.dual_threshold.coverage in abstention/results.json). Rerunning resumes each run\n"
    "directory. A failed run is a row with its exit code; the others still run; the exit code is then 1.\n"
    "\n"
    "  --output DIR   where the suite's folder goes (default runs/reproduce)\n"
    "  --only NAME    run only this run (repeatable); the table shows the others' earlier results\n"
    "  --dry-run      check the suite and every recipe, print the commands and the table so far\n"
    "  key=value      appended to every run's overrides (e.g. train.steps=10 for a smoke test;\n"
    "                 give such runs their own --output)\n"
    "  --list         list the suites with their descriptions\n";

// ------------------------------------------------------------------------------------------------
// Running

volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_signal_count = 0;
void on_signal(int sig) {
  g_signal = sig;
  g_signal_count = g_signal_count + 1;
}

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                       "0123456789_./=+-:@,~%") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `attnlab ARGS` in its own process group, so a terminal's Ctrl-C reaches this process only
// and is forwarded once (train saves a checkpoint on the first signal and dies on the second, so
// each further Ctrl-C is forwarded too). Output goes straight to ours. Returns the exit code,
// 128 + signal when killed.
int run_child(const Args& args) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw UserError(std::string("cannot start attnlab train: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    // Should reproduce die, train gets SIGTERM and stops at a checkpoint instead of running on.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(143);
    exec_self(args);
  }
  int status = 0, forwarded = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw UserError(std::string("waiting for attnlab train: ") + std::strerror(errno));
    if (g_signal_count > forwarded) {
      forwarded = g_signal_count;
      ::kill(pid, g_signal);
    }
    ::usleep(50 * 1000);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

struct Outcome {
  bool ran = false;
  int exit_code = 0;
  double seconds = 0;
};

// ------------------------------------------------------------------------------------------------
// Reading results

// Follows a dotted path: an object's key; on a list, an index or the element whose "method",
// "condition" or "name" is the segment (how abstention/results.json lists methods and conditions).
const nlohmann::json* follow(const nlohmann::json& root, const std::string& path, std::string* why) {
  const nlohmann::json* node = &root;
  std::string walked;
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '.');) {
    const nlohmann::json* next = nullptr;
    std::vector<std::string> have;
    if (node->is_object()) {
      if (auto it = node->find(part); it != node->end()) next = &*it;
      for (auto it = node->begin(); it != node->end(); ++it) have.push_back(it.key());
    } else if (node->is_array()) {
      if (!part.empty() && part.size() < 10 && part.find_first_not_of("0123456789") == std::string::npos) {
        const size_t i = std::stoul(part);
        if (i < node->size()) next = &(*node)[i];
      }
      for (const auto& item : *node) {
        for (const char* id : {"method", "condition", "name"}) {
          if (!item.is_object() || !item.contains(id) || !item[id].is_string()) continue;
          if (!next && item[id] == part) next = &item;
          have.push_back(item[id].get<std::string>());
          break;
        }
      }
    }
    if (!next) {
      *why = "no '" + part + "' in " + (walked.empty() ? "the file" : walked) +
             (have.empty() ? "" : " (has: " + join(have, ", ") + ")");
      return nullptr;
    }
    node = next;
    walked += (walked.empty() ? "" : ".") + part;
  }
  return node;
}

struct Reading {
  std::optional<double> value;
  std::string metric;  // the path that gave it (or the first, when none did)
  std::string why;     // when there is no value
  std::optional<double> train_seconds;  // summary.json's wall_time_s
};

Reading read_metric(const Row& row, const std::string& run_dir) {
  Reading r;
  r.metric = row.metrics.empty() ? "" : row.metrics.front();
  auto load = [](const std::string& file) -> std::optional<nlohmann::json> {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return std::nullopt;
    try {
      return nlohmann::json::parse(io::read_file(file));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  if (auto summary = load(run_dir + "/summary.json"); summary && (*summary)["wall_time_s"].is_number())
    r.train_seconds = (*summary)["wall_time_s"].get<double>();
  const std::string file = run_dir + "/" + row.file;
  const auto json = load(file);
  if (!json) {
    r.why = file + ": missing or not JSON";
    return r;
  }
  for (const auto& m : row.metrics) {
    std::string why;
    const nlohmann::json* v = follow(*json, m, &why);
    if (v && v->is_number()) {
      r.value = v->get<double>();
      r.metric = m;
      return r;
    }
    if (r.why.empty()) r.why = row.file + ": " + (v ? m + " is not a number" : why);
  }
  return r;
}

// ------------------------------------------------------------------------------------------------
// The table

struct Result {
  const Row* row;
  std::string run_dir;
  std::string status;  // ok, failed, no_metric, not_run, earlier_run, interrupted
  Outcome outcome;
  Reading reading;
};

std::string status_text(const Result& r) {
  if (r.status == "failed") return "failed (exit " + std::to_string(r.outcome.exit_code) + ")";
  if (r.status == "no_metric") return "no metric";
  if (r.status == "not_run") return "not run";
  if (r.status == "earlier_run") return "earlier run";
  return r.status;
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// Display width: UTF-8 code points (claims hold ≥, λ, ...), so the columns line up in a terminal.
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string cell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

// A Markdown table with padded columns: readable as text and rendered as a table.
std::string markdown_table(const std::vector<Result>& results) {
  std::vector<std::vector<std::string>> rows = {
      {"run", "paper claim", "metric", "expected", "ours", "status", "time (s)", "run directory"}};
  for (const auto& r : results) {
    const std::string metric = (r.row->file == "summary.json" ? "" : r.row->file + ":") + r.reading.metric;
    rows.push_back({r.row->name, r.row->claim, metric, r.row->expected.empty() ? "-" : r.row->expected,
                    r.reading.value ? format("%.4f", *r.reading.value) : "-", status_text(r),
                    r.outcome.ran ? format("%.1f", r.outcome.seconds) : "-", r.run_dir});
  }
  std::vector<size_t> widths(rows[0].size(), 3);
  for (auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      row[c] = cell(row[c]);
      widths[c] = std::max(widths[c], width(row[c]));
    }
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    out += "|";
    for (size_t c = 0; c < row.size(); ++c) out += " " + row[c] + std::string(widths[c] - width(row[c]), ' ') + " |";
    out += "\n";
  };
  line(rows[0]);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  line(rule);
  for (size_t i = 1; i < rows.size(); ++i) line(rows[i]);
  return out;
}

nlohmann::json results_json(const Suite& suite, const std::string& output, const Args& args,
                            const std::vector<Result>& results) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : results) {
    const auto& row = *r.row;
    nlohmann::json j = {{"name", row.name},
                        {"recipe", row.recipe},
                        {"overrides", row.overrides},
                        {"run_dir", r.run_dir},
                        {"claim", row.claim},
                        {"expected", row.expected_value ? nlohmann::json(*row.expected_value) : nlohmann::json()},
                        {"file", row.file},
                        {"metric", r.reading.metric},
                        {"value", r.reading.value ? nlohmann::json(*r.reading.value) : nlohmann::json()},
                        {"status", r.status},
                        {"exit_code", r.outcome.ran ? nlohmann::json(r.outcome.exit_code) : nlohmann::json()},
                        {"seconds", r.outcome.ran ? nlohmann::json(r.outcome.seconds) : nlohmann::json()},
                        {"train_wall_time_s", r.reading.train_seconds ? nlohmann::json(*r.reading.train_seconds)
                                                                      : nlohmann::json()}};
    if (!r.reading.value && !r.reading.why.empty()) j["note"] = r.reading.why;
    runs.push_back(j);
  }
  return {{"suite", suite.name}, {"suite_file", suite.path}, {"description", suite.description},
          {"output", output},    {"command", args},          {"runs", runs}};
}

// ------------------------------------------------------------------------------------------------

int list_suites() {
  const auto suites = known_suites();
  if (suites.empty()) throw UserError("no recipes/suites folder here or beside the binary");
  size_t w = 0;
  for (const auto& [name, path] : suites) w = std::max(w, name.size());
  for (const auto& [name, path] : suites) {
    std::string about;
    try {
      const Value root = config::parse_yaml_file(path);
      const Value* d = root.is_map() ? root.find("description") : nullptr;
      const Value* runs = root.is_map() ? root.find("runs") : nullptr;
      const size_t n = runs && runs->is_list() ? runs->items().size() : 0;
      about = std::to_string(n) + (n == 1 ? " row   " : " rows  ") + (d && d->is_scalar() ? d->text() : "");
    } catch (const UserError& e) {
      about = std::string("(cannot read: ") + e.what() + ")";
    }
    std::printf("%-*s  %s\n", static_cast<int>(w), name.c_str(), about.c_str());
  }
  return 0;
}

struct Options {
  std::string suite, output = "runs/reproduce";
  std::vector<std::string> only, overrides;
  bool dry_run = false, list = false;
};

Options parse_options(const Args& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--list") {
      o.list = true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--output" || a == "--only") {
      if (i + 1 >= args.size()) throw UserError(a + ": needs a value (see attnlab reproduce --help)");
      if (a == "--output") {
        o.output = args[++i];
      } else {
        std::stringstream names(args[++i]);
        for (std::string n; std::getline(names, n, ',');)
          if (!n.empty()) o.only.push_back(n);
      }
    } else if (!a.empty() && a[0] == '-') {
      throw UserError("unknown option '" + a + "' (see attnlab reproduce --help)");
    } else if (is_override(a)) {
      if (override_key(a) == "run_dir")
        throw UserError("command line '" + a + "': reproduce sets run_dir (OUTPUT/SUITE/NAME); use --output");
      o.overrides.push_back(a);
    } else if (o.suite.empty()) {
      o.suite = a;
    } else {
      throw UserError("unexpected argument '" + a + "' (one suite at a time; see attnlab reproduce --help)");
    }
  }
  if (!o.list && o.suite.empty()) throw UserError("which suite? (attnlab reproduce --list names them)");
  return o;
}

}  // namespace

int reproduce_command(const Args& args) {
  if (wants_help(args) || args.empty()) {
    std::fputs(kHelp, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const Options o = parse_options(args);
  if (o.list) return list_suites();
  const Suite suite = read_suite(locate_suite(o.suite));
  const std::string out_dir = (fs::path(o.output) / suite.name).string();

  // The runs in order of first appearance, each with its full override list.
  std::vector<std::string> names;
  std::map<std::string, const Row*> first;
  for (const auto& row : suite.rows)
    if (first.emplace(row.name, &row).second) names.push_back(row.name);
  for (const auto& n : o.only) {
    if (!first.count(n))
      throw UserError("--only: suite " + suite.name + " has no run '" + n + "'" +
                      config::did_you_mean_suffix(n, names) + "; its runs: " + join(names, ", "));
  }
  auto selected = [&](const std::string& n) { return o.only.empty() || std::count(o.only.begin(), o.only.end(), n); };
  auto train_args = [&](const Row& row) {
    Args a = {"train", row.recipe};
    a.insert(a.end(), row.overrides.begin(), row.overrides.end());
    a.insert(a.end(), o.overrides.begin(), o.overrides.end());
    a.push_back("run_dir=" + (fs::path(out_dir) / row.name).string());
    return a;
  };

  // Every recipe with its overrides must validate before the first (possibly hour-long) run starts.
  Problems p;
  for (const auto& n : names) {
    if (!selected(n)) continue;
    const Args a = train_args(*first[n]);
    try {
      run::load_recipe(a[1], Args(a.begin() + 2, a.end()));
    } catch (const UserError& e) {
      p.push_back(first[n]->where + " (" + n + "): " + a[1] + " with its overrides: " + e.what());
    }
  }
  if (!p.empty()) throw UserError(join(p, "\n"));

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::map<std::string, Outcome> outcomes;
  size_t count = 0, total = 0;
  for (const auto& n : names) total += selected(n) ? 1 : 0;
  for (const auto& n : names) {
    if (!selected(n) || g_signal) continue;
    const Args a = train_args(*first[n]);
    std::string shown = "attnlab";
    for (const auto& s : a) shown += " " + shell_quote(s);
    std::printf("attnlab reproduce: [%zu/%zu] %s: %s\n", ++count, total, n.c_str(), shown.c_str());
    if (o.dry_run) continue;
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw UserError("--output: cannot create " + out_dir + ": " + ec.message());
    const auto start = std::chrono::steady_clock::now();
    Outcome& out = outcomes[n];
    out.exit_code = run_child(a);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.ran = true;
    if (out.exit_code == 0)
      std::printf("attnlab reproduce: %s finished in %.1f s\n", n.c_str(), out.seconds);
    else
      std::fprintf(stderr, "attnlab reproduce: %s failed with exit code %d after %.1f s%s\n", n.c_str(), out.exit_code,
                   out.seconds, g_signal || count == total ? "" : "; going on with the next run");
  }

  std::vector<Result> results;
  bool bad = false;
  for (const auto& row : suite.rows) {
    Result r{&row, (fs::path(out_dir) / row.name).string(), "", outcomes[row.name], {}};
    const bool ran = r.outcome.ran;
    if (!ran || r.outcome.exit_code == 0) r.reading = read_metric(row, r.run_dir);
    else r.reading.metric = row.metrics.front();
    if (ran && r.outcome.exit_code != 0) r.status = g_signal ? "interrupted" : "failed";
    else if (ran) r.status = r.reading.value ? "ok" : "no_metric";
    else if (selected(row.name) && g_signal) r.status = "interrupted";
    else r.status = r.reading.value ? "earlier_run" : "not_run";
    if (r.status == "failed" || r.status == "no_metric") bad = true;
    if (r.status == "no_metric")
      std::fprintf(stderr, "attnlab reproduce: %s: %s\n", row.name.c_str(), r.reading.why.c_str());
    results.push_back(r);
  }

  const std::string table = markdown_table(results);
  std::printf("\n%s: %s\n\n%s", suite.name.c_str(), suite.description.c_str(), table.c_str());
  if (!o.dry_run) {
    std::string command = "attnlab reproduce";
    for (const auto& s : args) command += " " + shell_quote(s);
    io::write_file_atomic(out_dir + "/table.md",
                          "# " + suite.name + "\n\n" + suite.description + "\n\n" + table + "\nCommand: `" + command +
                              "`. Time: seconds of `attnlab train` in that invocation (a resumed or finished run "
                              "takes less; train_wall_time_s in results.json is the training's own).\n");
    io::write_file_atomic(out_dir + "/results.json", results_json(suite, o.output, args, results).dump(2) + "\n");
    std::printf("\ntable in %s/table.md, results in %s/results.json\n", out_dir.c_str(), out_dir.c_str());
  }
  if (g_signal) return 128 + g_signal;
  return bad ? 1 : 0;
}

}  // namespace attnlab::tools
