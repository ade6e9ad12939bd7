// The whole loading pipeline in its fixed order: files with their includes, then command-line
// overrides (so they can change anything a file set), then ${...} interpolation (so references
// and environment defaults see the overridden values).
#include "framework/config/loader.h"

namespace attnlab::config {

Value resolve_recipe(const std::string& path, const std::vector<std::string>& overrides,
                     const DeclaredKeys& declared) {
  Value root = load_recipe_file(path);
  apply_overrides(root, overrides, declared);
  interpolate(root);
  return root;
}

}  // namespace attnlab::config
