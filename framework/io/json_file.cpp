#include "framework/io/json_file.h"

#include "framework/errors.h"
#include "framework/io/files.h"

namespace attnlab::io {

nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

}  // namespace attnlab::io
