// `attnlab bench attention ...`: times forward + backward of the attention modules over sequence
// lengths and prints a table (optionally JSON); the measurement lives in tools/bench/attention_bench.h.
// `attnlab bench distributed ...`: 1 against N processes of data-parallel training
// (tools/bench/distributed_bench.h). `attnlab bench train ...`: the trainer against Python PyTorch
// and the machine's matmul throughput (tools/bench/train_bench.h). `attnlab bench kernels ...`: the
// custom CUDA kernels against the ATen paths they replace (tools/bench/kernel_bench.h). Tools, never tests (DESIGN.md §7).
#pragma once

#include "tools/commands/commands.h"

namespace attnlab::tools {

// Returns the exit code: 0 after printing the table (failed rows included), 2 for bad options
// (thrown as attnlab::UserError, printed as one line by main).
int bench_command(const Args& args);
// `attnlab bench train ARGS` (tools/commands/bench_train_command.cpp).
int bench_train(const Args& args);
// `attnlab bench kernels ARGS` (tools/commands/bench_kernels_command.cpp).
int bench_kernels(const Args& args);

}  // namespace attnlab::tools
