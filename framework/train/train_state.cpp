// Serialisation of model, optimizer and RNG states to in-memory byte strings, which the
// checkpoint store writes atomically with checksums.
#include "framework/train/train_state.h"

#include <sstream>

#include "framework/checkpoint/checkpoint_store.h"
#include "framework/errors.h"

namespace attnlab::train {

std::string save_module(const torch::nn::Module& module) {
  torch::serialize::OutputArchive archive;
  module.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_module(torch::nn::Module& module, const std::string& bytes, const std::string& what) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(in);
    module.load(archive);
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    throw UserError(what + ": does not match this model (" + msg.substr(0, msg.find('\n')) +
                    "); was it trained with a different recipe?");
  }
}

std::string save_optimizer(const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_optimizer(torch::optim::Optimizer& optimizer, const std::string& bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  optimizer.load(archive);
}

std::string save_rng_states() {
  torch::serialize::OutputArchive archive;
  archive.write("cpu", at::detail::getDefaultCPUGenerator().get_state());
  const auto cuda_devices = torch::cuda::device_count();
  for (size_t i = 0; i < cuda_devices; ++i) {
    auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<int8_t>(i)));
    archive.write("cuda" + std::to_string(i), gen.get_state());
  }
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load_rng_states(const std::string& bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  torch::Tensor state;
  archive.read("cpu", state);
  at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle to the default generator
  cpu.set_state(state);
  const auto cuda_devices = torch::cuda::device_count();
  for (size_t i = 0; i < cuda_devices; ++i) {
    torch::Tensor s;
    if (!archive.try_read("cuda" + std::to_string(i), s)) continue;  // saved on a CPU machine
    // A Generator is a handle: the copy shares the device's default generator.
    at::Generator gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<int8_t>(i)));
    gen.set_state(s);
  }
}

void load_model_weights(torch::nn::Module& model, const std::string& checkpoint_dir) {
  const auto ckpt = checkpoint::CheckpointStore::load(checkpoint_dir);
  auto it = ckpt.files.find("model.pt");
  if (it == ckpt.files.end()) throw UserError(checkpoint_dir + ": has no model.pt");
  load_module(model, it->second, checkpoint_dir + "/model.pt");
}

}  // namespace attnlab::train
