// A whole JSON file (summary.json, run_info.json, results.json, config files) as one value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::io {

// Throws UserError "PATH: cannot read: ..." or "PATH: not valid JSON (...)".
nlohmann::json read_json_file(const std::string& path);

}  // namespace attnlab::io
