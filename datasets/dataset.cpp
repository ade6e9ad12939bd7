// Names of the dataset interface's enums, for messages and logs.
#include "datasets/dataset.h"

namespace attnlab::datasets {

const char* task_name(Task task) {
  switch (task) {
    case Task::kClassification: return "classification";
    case Task::kLanguageModel: return "language_model";
  }
  return "unknown";
}

}  // namespace attnlab::datasets
