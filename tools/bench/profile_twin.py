"""The LibTorch op table of a training step of the Python twin, for comparison with the trainer's.

Builds the medium ListOps encoder of `attnlab bench train` (d_model 256, 4 layers, 8 heads, dropout
0.1, batch 32 of up to 200 tokens, random tokens and lengths) from tools/bench/torch_models.py,
trains it with AdamW for a few warm-up steps, then prints the step time and
torch.autograd.profiler's table of ops by self CPU time over --steps steps. The trainer's own
table comes from `attnlab train ... debug.profile_steps=N` (README, "Profiling a step").

    /usr/bin/python3 tools/bench/profile_twin.py [mha|moh|mega] [--steps 2] [--threads 2]
"""

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models as tm  # noqa: E402

ATTENTION = {
    "mha": {"name": "mha", "heads": 8},
    "moh": {"name": "moh", "heads": 8, "shared_heads": 2, "routed_topk": 4},
    "mega": {"name": "mega", "z_dim": 64, "ema_dim": 16, "attention_fn": "softmax", "max_positions": 256},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("attention", nargs="?", default="mha", choices=sorted(ATTENTION))
    parser.add_argument("--steps", type=int, default=2, help="profiled steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, default=30, help="rows of the table")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    section = {"name": "encoder_classifier", "d_model": 256, "layers": 4, "dropout": 0.1,
               "attention": ATTENTION[args.attention]}
    spec = {"num_classes": 10, "vocab_size": 20, "pad_id": 0, "max_length": 200}
    model = tm.build_model(section, spec, fill_defaults=True)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    batch, length = 32, 200
    inputs = torch.randint(1, 20, (batch, length))
    padding = torch.arange(length)[None, :] >= torch.randint(100, length + 1, (batch,))[:, None]
    inputs[padding] = 0
    labels = torch.randint(0, 10, (batch,))

    def step():
        logits, aux = model(inputs, padding)
        loss, _ = tm.objective_total(logits, labels, aux)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(3):
        step()
    print(f"{args.attention}: {(time.perf_counter() - start) / 3:.3f} s per step unprofiled "
          f"(torch {torch.__version__}, {args.threads} threads)")
    with torch.autograd.profiler.profile() as prof:
        for _ in range(args.steps):
            step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
