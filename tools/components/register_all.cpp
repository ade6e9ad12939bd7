// One call that makes every component available to recipes.
#include <mutex>

#include "framework/registry/components.h"
#include "framework/run/recipe.h"
#include "tools/components/components.h"

namespace attnlab::tools {

void register_all_components() {
  static std::once_flag once;
  std::call_once(once, [] {
    registry::register_framework_components();
    run::register_recipe_sections();
    register_attention_components();
    register_model_components();
    register_dataset_components();
    register_attention_regularizer_paper_components();
    register_text_classification_components();
    register_mil_components();
  });
}

}  // namespace attnlab::tools
