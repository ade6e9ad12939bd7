// The wiring layer: registers the concrete datasets, models and attention modules under their
// recipe names, each with its schema, translating a validated recipe section into the plain
// option structs of datasets/, models/ and attention/ (which know nothing of recipes).
#pragma once

namespace attnlab::tools {

// Registers every component (and the framework's own). Idempotent; call before reading recipes.
void register_all_components();

void register_attention_components();
void register_model_components();
void register_dataset_components();
void register_attention_regularizer_paper_components();
void register_text_classification_components();
void register_mil_components();

}  // namespace attnlab::tools
