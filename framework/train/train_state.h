// What a checkpoint holds and how it is (de)serialised. Files of a training checkpoint:
//   model.pt            parameters and buffers (torch::serialize archive, names as in the model)
//   optimizer.pt        optimizer state (moments, step counts) of every parameter group
//   rng.pt              the CPU generator state, and each CUDA device's when present
//   trainer_state.json  step, data position (epoch, offset, the epoch's order), monitors,
//                       non-finite counters, metrics.jsonl size, elapsed time
// The learning rate is not stored: schedules are functions of the step.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace attnlab::train {

std::string save_module(const torch::nn::Module& module);
void load_module(torch::nn::Module& module, const std::string& bytes, const std::string& what);
std::string save_optimizer(const torch::optim::Optimizer& optimizer);
void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& bytes);
std::string save_rng_states();
void load_rng_states(const std::string& bytes);

// The model weights of a checkpoint directory or of a run directory's best/last checkpoint,
// verified. Throws UserError when none is usable.
void load_model_weights(torch::nn::Module& model, const std::string& checkpoint_dir);

}  // namespace attnlab::train
