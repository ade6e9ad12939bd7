#include "tools/commands/reproduce_suite.h"

#include <filesystem>

#include "framework/config/did_you_mean.h"
#include "framework/config/loader.h"
#include "framework/config/section.h"
#include "framework/errors.h"
#include "framework/run/recipe.h"

namespace fs = std::filesystem;

namespace attnlab::tools::reproduce {
namespace {
using config::Value;
using Problems = std::vector<std::string>;

const std::vector<std::string> kSuiteKeys = {"description", "overrides", "runs"};
const std::vector<std::string> kRunKeys = {"claim", "expected", "file", "metric", "name", "overrides", "recipe"};

// ------------------------------------------------------------------------------------------------
// Finding suites

bool looks_like_file(const std::string& s) {
  auto ends = [&](const std::string& e) {
    return s.size() > e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
  };
  return s.find('/') != std::string::npos || ends(".yaml") || ends(".yml");
}

// ./recipes/suites (run from the repository root), then the one of the tree the binary was built
// in (build/attnlab -> ../recipes/suites), so names work from any directory, as in the tests.
std::vector<fs::path> suite_dirs() {
  std::vector<fs::path> dirs;
  auto add = [&](const fs::path& d) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) return;
    for (const auto& e : dirs)
      if (fs::equivalent(e, d, ec)) return;
    dirs.push_back(d);
  };
  add("recipes/suites");
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) add((exe.parent_path() / ".." / "recipes" / "suites").lexically_normal());
  return dirs;
}

// ------------------------------------------------------------------------------------------------
// Reading a suite file: every problem is one line naming file:line:column and the key.

std::string here(const Value& v) { return v.origin().str(); }

void check_keys(const Value& map, const std::string& prefix, const std::vector<std::string>& valid, Problems& p) {
  for (const auto& [key, value] : map.entries()) {
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    p.push_back(value.key_origin().str() + ": " + prefix + key + ": unknown key" +
                config::did_you_mean_suffix(key, valid) + "; valid keys: " + join(valid, ", "));
  }
}

std::optional<std::string> text_of(const Value& map, const std::string& key, const std::string& prefix, bool required,
                                   Problems& p) {
  const Value* v = map.find(key);
  if (!v || v->is_null()) {
    if (required) p.push_back(here(map) + ": " + prefix + key + ": missing (required)");
    return std::nullopt;
  }
  if (!v->is_scalar() || v->text().empty()) {
    p.push_back(here(*v) + ": " + prefix + key + ": expected a non-empty string, got " +
                (v->is_scalar() ? "''" : std::string("a ") + config::kind_name(v->kind())));
    return std::nullopt;
  }
  return v->text();
}

// A string or a list of strings; absent: empty.
std::vector<std::string> texts_of(const Value& map, const std::string& key, const std::string& prefix, Problems& p) {
  const Value* v = map.find(key);
  if (!v || v->is_null()) return {};
  std::vector<std::string> out;
  if (v->is_scalar()) {
    if (!v->text().empty()) return {v->text()};
    p.push_back(here(*v) + ": " + prefix + key + ": expected a non-empty string");
    return out;
  }
  if (v->is_list()) {
    for (const auto& item : v->items()) {
      if (item.is_scalar() && !item.text().empty()) out.push_back(item.text());
      else p.push_back(here(item) + ": " + prefix + key + ": expected a list of non-empty strings");
    }
    return out;
  }
  p.push_back(here(*v) + ": " + prefix + key + ": expected a string or a list of strings, got a map");
  return {};
}

void check_overrides(const Value& map, const std::vector<std::string>& overrides, const std::string& prefix,
                     Problems& p) {
  for (const auto& o : overrides) {
    if (override_key(o) == "run_dir")
      p.push_back(here(*map.find("overrides")) + ": " + prefix + "overrides: '" + o +
                  "': reproduce sets run_dir (OUTPUT/SUITE/NAME); use --output or name");
  }
}

Row read_row(const Value& run, size_t index, const Suite& suite, const std::vector<std::string>& suite_overrides,
             Problems& p) {
  const std::string prefix = "runs." + std::to_string(index) + ".";
  Row row;
  row.where = here(run) + ": runs." + std::to_string(index);
  check_keys(run, prefix, kRunKeys, p);
  if (auto recipe = text_of(run, "recipe", prefix, true, p)) {
    const fs::path resolved = (fs::path(suite.path).parent_path() / *recipe).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec))
      p.push_back(here(*run.find("recipe")) + ": " + prefix + "recipe: no recipe file '" + *recipe + "' (" +
                  resolved.string() + "; recipe paths are relative to the suite file)");
    row.recipe = resolved.string();
    row.name = resolved.stem().string();
  }
  if (auto name = text_of(run, "name", prefix, false, p)) {
    if (name->find('/') != std::string::npos || *name == "." || *name == "..")
      p.push_back(here(*run.find("name")) + ": " + prefix + "name: '" + *name + "' must be a plain folder name");
    row.name = *name;
  }
  row.claim = text_of(run, "claim", prefix, true, p).value_or("");
  if (!run.find("metric") || run.find("metric")->is_null()) {
    p.push_back(here(run) + ": " + prefix + "metric: missing (required)");
  } else {
    row.metrics = texts_of(run, "metric", prefix, p);
    if (row.metrics.empty())
      p.push_back(here(*run.find("metric")) + ": " + prefix + "metric: expected a path or a list of paths");
    for (const auto& m : row.metrics) {
      if (m.front() == '.' || m.back() == '.' || m.find("..") != std::string::npos)
        p.push_back(here(*run.find("metric")) + ": " + prefix + "metric: '" + m + "' is not a dotted path");
    }
  }
  if (auto file = text_of(run, "file", prefix, false, p)) {
    if (fs::path(*file).is_absolute())
      p.push_back(here(*run.find("file")) + ": " + prefix + "file: must be relative to the run directory");
    row.file = *file;
  }
  if (const Value* e = run.find("expected"); e && !e->is_null()) {
    row.expected_value = config::parse_float(*e);
    if (row.expected_value) row.expected = e->text();
    else p.push_back(here(*e) + ": " + prefix + "expected: expected a number (in the metric's units)");
  }
  row.overrides = suite_overrides;
  const auto own = texts_of(run, "overrides", prefix, p);
  check_overrides(run, own, prefix, p);
  row.overrides.insert(row.overrides.end(), own.begin(), own.end());
  return row;
}

}  // namespace

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// The key an override sets: "train.steps" of "++train.steps=3", "run_dir" of "~run_dir".
std::string override_key(const std::string& o) {
  const size_t start = o.find_first_not_of("+~");
  const std::string rest = start == std::string::npos ? "" : o.substr(start);
  return rest.substr(0, rest.find('='));
}

bool is_override(const std::string& a) {
  return !a.empty() && a[0] != '-' && (a.find('=') != std::string::npos || a[0] == '~');
}

// Suite name -> file, the first folder winning.
std::map<std::string, std::string> known_suites() {
  std::map<std::string, std::string> suites;
  for (const auto& dir : suite_dirs()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".yaml" || !entry.is_regular_file()) continue;
      suites.emplace(entry.path().stem().string(), entry.path().string());
    }
  }
  return suites;
}

std::string locate_suite(const std::string& arg) {
  if (looks_like_file(arg)) {
    std::error_code ec;
    if (!fs::is_regular_file(arg, ec)) throw UserError("suite file '" + arg + "' not found");
    return fs::path(arg).lexically_normal().string();
  }
  const auto suites = known_suites();
  if (auto it = suites.find(arg); it != suites.end()) return it->second;
  if (suites.empty())
    throw UserError("unknown suite '" + arg +
                    "': no recipes/suites folder here or beside the binary; pass a suite file");
  std::vector<std::string> names;
  for (const auto& [name, path] : suites) names.push_back(name);
  throw UserError("unknown suite '" + arg + "'" + config::did_you_mean_suffix(arg, names) + "; known suites: " +
                  join(names, ", ") + " (attnlab reproduce --list describes them)");
}

Suite read_suite(const std::string& path) {
  Suite suite;
  suite.path = path;
  suite.name = fs::path(path).stem().string();
  const Value root = config::parse_yaml_file(path);
  if (!root.is_map()) throw UserError(path + ": a suite file is a map with description and runs");
  Problems p;
  check_keys(root, "", kSuiteKeys, p);
  suite.description = text_of(root, "description", "", true, p).value_or("");
  const auto suite_overrides = texts_of(root, "overrides", "", p);
  check_overrides(root, suite_overrides, "", p);
  const Value* runs = root.find("runs");
  if (!runs || !runs->is_list() || runs->items().empty()) {
    p.push_back((runs ? here(*runs) : path) + ": runs: " +
                (runs ? "expected a non-empty list of runs" : "missing (required)"));
  } else {
    for (size_t i = 0; i < runs->items().size(); ++i) {
      const Value& run = runs->items()[i];
      if (!run.is_map()) {
        p.push_back(here(run) + ": runs." + std::to_string(i) + ": expected a map with recipe, claim and metric");
        continue;
      }
      suite.rows.push_back(read_row(run, i, suite, suite_overrides, p));
    }
  }
  // Rows naming one run read one training: they must describe the same one.
  std::map<std::string, const Row*> first;
  for (const auto& row : suite.rows) {
    auto [it, added] = first.emplace(row.name, &row);
    if (!added && (it->second->recipe != row.recipe || it->second->overrides != row.overrides))
      p.push_back(row.where + ": name '" + row.name + "' is also the run of " + it->second->where +
                  " with another recipe or overrides; give one of them its own name");
  }
  if (!p.empty()) throw UserError(join(p, "\n"));
  return suite;
}


}  // namespace attnlab::tools::reproduce
