#!/usr/bin/python3
"""Python side of `attnlab bench train` (issue 9): trains the PyTorch twin of a C++ model on the
same data, batches, optimizer and thread count, and prints one JSON line.

    python3 tools/bench/train_bench.py DIR            # time S training steps (W..S-1 timed)
    python3 tools/bench/train_bench.py DIR --check    # eval-mode cross-entropy of the first batch

DIR (written by the C++ side, tools/bench/train_bench.cpp):
  config.json         {"model": {...every key resolved...}, "spec": {num_classes, vocab_size,
                       feature_dim, max_length, pad_id}, "batch_size": B, "steps": S,
                       "warmup_steps_excluded": W, "threads": N, "optim": the recipe's resolved
                       optim section ({name, lr, weight_decay, beta1, beta2, eps,
                       decay_biases_and_norms}; "betas": [b1, b2] is read too), "grad_clip": g,
                       "label_smoothing": ls}
                      optional: "schedule" (the recipe's {name, warmup_steps, min_lr_ratio}; absent:
                       constant lr), "drop_last" (default true, the trainer's default),
                       "collate": "fixed" (default: batches are rows of the arrays as stored) or
                       "longest" (as ListOps collates: trailing all-padding columns dropped, and no
                       mask when nothing in the batch is padded). Other keys are ignored.
  inputs.npy          (N, T) int64 token ids or (N, T, F) float32 features
  labels.npy          (N,) int64
  padding_mask.npy    optional (N, T) bool, True = padding
  init.safetensors    the C++ model's initial weights, C++ names

Batches are the trainer's with train.shuffle=false (framework/train/sampler.cpp): each epoch
visits examples 0..N-1 in consecutive batches of B; with drop_last the incomplete tail is skipped
(step s = examples (s mod floor(N/B)) * B + 0..B-1), without it the tail is a smaller batch.

Needs Debian's python3-torch (1.13); under another python3 without torch it re-runs itself with
/usr/bin/python3. The training step mirrors framework/train/trainer.cpp step_once: forward, task
cross-entropy plus the modules' aux losses (objective.cpp), backward, the global gradient norm
(always computed, as the trainer logs it), gradients scaled by grad_clip / (norm + 1e-6) when that
is below 1, lr = base lr * schedule factor, optimizer step (AdamW with weight decay on parameters
of >= 2 dims only, as framework/optim/optimizers.cpp; skipped, as the trainer does, when the loss
or norm is not finite), gradients dropped (set to None), loss read once per step.
"""

import argparse
import json
import math
import os
import resource
import sys
import time

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    # Debian's python3-torch is installed for /usr/bin/python3; another python3 (pyenv, venv) may
    # come first on PATH. Re-run under Debian's once.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3") \
            and not os.environ.get("ATTNLAB_BENCH_REEXEC"):
        os.environ["ATTNLAB_BENCH_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit(f"train_bench.py: cannot import {e.name} with {sys.executable}; Debian's python3-torch and "
             f"python3-numpy are for /usr/bin/python3 (apt-get install python3-torch python3-numpy)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models as tm  # noqa: E402


def _require(cfg, key, where="config.json"):
    if key not in cfg:
        raise tm.ConfigError(f"{where}: missing key '{key}'")
    return cfg[key]


def load_bench_dir(path):
    """-> dict with config, tensors (inputs, labels, padding_mask or None) and weights."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    inputs = np.load(os.path.join(path, "inputs.npy"))
    labels = np.load(os.path.join(path, "labels.npy"))
    mask_path = os.path.join(path, "padding_mask.npy")
    mask = np.load(mask_path) if os.path.exists(mask_path) else None
    n = inputs.shape[0]
    if labels.shape != (n,):
        raise tm.ConfigError(f"labels.npy is {labels.shape}, expected ({n},) to match inputs.npy {inputs.shape}")
    if mask is not None and (mask.dtype != np.bool_ or mask.shape != inputs.shape[:2]):
        raise tm.ConfigError(f"padding_mask.npy is {mask.shape} {mask.dtype}, expected {inputs.shape[:2]} bool")
    if inputs.ndim == 2:
        inputs_t = torch.from_numpy(np.ascontiguousarray(inputs.astype(np.int64, copy=False)))
    elif inputs.ndim == 3:
        inputs_t = torch.from_numpy(np.ascontiguousarray(inputs.astype(np.float32, copy=False)))
    else:
        raise tm.ConfigError(f"inputs.npy must be (N, T) int64 or (N, T, F) float32, got {inputs.shape} {inputs.dtype}")
    weights, _ = tm.read_safetensors(os.path.join(path, "init.safetensors"))
    return {
        "config": config,
        "inputs": inputs_t,
        "labels": torch.from_numpy(np.ascontiguousarray(labels.astype(np.int64, copy=False))),
        "padding_mask": torch.from_numpy(np.ascontiguousarray(mask)) if mask is not None else None,
        "weights": weights,
    }


def batch_indices(n, batch_size, step, drop_last=True):
    """Indices of the step-th batch of framework/train/sampler.cpp's EpochSampler without shuffling."""
    if drop_last:
        if n < batch_size:
            raise tm.ConfigError(f"the training data has {n} examples, fewer than batch_size={batch_size}, "
                                 f"so drop_last leaves no batch")
        per_epoch = n // batch_size
        first = (step % per_epoch) * batch_size
        return torch.arange(first, first + batch_size, dtype=torch.long)
    per_epoch = (n + batch_size - 1) // batch_size
    first = (step % per_epoch) * batch_size
    return torch.arange(first, min(first + batch_size, n), dtype=torch.long)


def batch_at(data, step, batch_size, drop_last=True, collate="fixed"):
    """(inputs, labels, padding_mask or None) of the step-th batch, collated as the C++ dataset does."""
    index = batch_indices(data["inputs"].size(0), batch_size, step, drop_last)
    inputs = data["inputs"].index_select(0, index)
    labels = data["labels"].index_select(0, index)
    mask = data["padding_mask"]
    if mask is None:
        return inputs, labels, None
    mask = mask.index_select(0, index)
    if collate == "longest":
        # As datasets/listops.cpp: padded to the longest example of the batch, and the mask
        # undefined when no example of the batch is padded.
        used = mask.logical_not().any(0).nonzero()
        width = int(used.max().item()) + 1 if used.numel() else 1
        inputs, mask = inputs[:, :width].contiguous(), mask[:, :width].contiguous()
        if not bool(mask.any()):
            mask = None
    elif collate != "fixed":
        raise tm.ConfigError(f"config.json: collate must be 'fixed' or 'longest', got '{collate}'")
    return inputs, labels, mask


def schedule_factor(schedule, step, total_steps):
    """framework/optim/schedules.cpp: the lr multiplier of the 0-based optimizer step."""
    if not schedule:
        return 1.0
    name = schedule.get("name", "constant")
    warmup = int(schedule.get("warmup_steps", 0))
    floor = float(schedule.get("min_lr_ratio", 0.0))
    if step < warmup:
        return (step + 1) / warmup
    p = min(1.0, max(0.0, (step - warmup) / max(1, total_steps - warmup)))
    if name == "constant":
        return 1.0
    if name == "warmup_cosine":
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * p))
    if name == "warmup_linear":
        return floor + (1.0 - floor) * (1.0 - p)
    if name == "warmup_inverse_sqrt":
        return max(floor, math.sqrt(max(warmup, 1)) / math.sqrt(step + 1))
    raise tm.ConfigError(f"config.json schedule: unknown name '{name}' "
                         f"(constant, warmup_cosine, warmup_linear, warmup_inverse_sqrt)")


def make_optimizer(model, optim_cfg):
    """framework/optim/optimizers.cpp: group [0] parameters with >= 2 dims (decayed), group [1] the
    rest (biases, norms, 1-d vectors) with weight decay 0 unless decay_biases_and_norms."""
    where = "config.json optim"
    name = _require(optim_cfg, "name", where)
    lr = float(_require(optim_cfg, "lr", where))
    wd = float(_require(optim_cfg, "weight_decay", where))
    every = bool(optim_cfg.get("decay_biases_and_norms", False))
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (decay if every or p.dim() >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": wd}]
    if no_decay:
        groups.append({"params": no_decay, "weight_decay": 0.0})
    if name in ("adamw", "adam"):
        if "betas" in optim_cfg:
            betas = tuple(float(b) for b in optim_cfg["betas"])
        else:
            betas = (float(_require(optim_cfg, "beta1", where)), float(_require(optim_cfg, "beta2", where)))
        eps = float(_require(optim_cfg, "eps", where))
        cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
        opt = cls(groups, lr=lr, betas=betas, eps=eps, weight_decay=wd, amsgrad=False)
    elif name == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=float(optim_cfg.get("momentum", 0.0)), dampening=0.0,
                              nesterov=bool(optim_cfg.get("nesterov", False)), weight_decay=wd)
    else:
        raise tm.ConfigError(f"{where}: unknown name '{name}' (adamw, adam, sgd)")
    for group in opt.param_groups:
        group["base_lr"] = lr
    return opt


def build(data):
    config = data["config"]
    threads = int(_require(config, "threads"))
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = tm.build_model(_require(config, "model"), _require(config, "spec"))
    tm.load_weights_strict(model, data["weights"], "init.safetensors")
    return model


def run_check(data):
    config = data["config"]
    model = build(data)
    model.eval()
    inputs, labels, mask = batch_at(data, 0, int(_require(config, "batch_size")),
                                    bool(config.get("drop_last", True)), config.get("collate", "fixed"))
    with torch.no_grad():
        logits, _ = model(inputs, mask)
        # Plain cross-entropy, as the C++ side's check (no label smoothing, no aux losses).
        loss = torch.nn.functional.cross_entropy(logits, labels)
    return {"check_loss": float(loss.item()), "check_logits_sum": float(logits.double().sum().item())}


def run_train(data):
    return train_model(data)[0]


def train_model(data):
    """Trains as configured; returns (the result dict printed by the script, the trained model)."""
    config = data["config"]
    model = build(data)
    model.train()
    batch_size = int(_require(config, "batch_size"))
    steps = int(_require(config, "steps"))
    warmup = int(_require(config, "warmup_steps_excluded"))
    if not 0 <= warmup < steps:
        raise tm.ConfigError(f"config.json: warmup_steps_excluded ({warmup}) must be in [0, steps {steps})")
    grad_clip = float(config.get("grad_clip", 0.0))
    label_smoothing = float(config.get("label_smoothing", 0.0))
    drop_last = bool(config.get("drop_last", True))
    collate = config.get("collate", "fixed")
    schedule = config.get("schedule")
    optimizer = make_optimizer(model, _require(config, "optim"))
    params = [p for p in model.parameters() if p.requires_grad]

    first_loss = final_loss = None
    skipped = examples = 0
    start = None
    for step in range(steps):
        if step == warmup:
            start = time.perf_counter()
        inputs, labels, mask = batch_at(data, step, batch_size, drop_last, collate)
        if step >= warmup:
            examples += labels.size(0)
        logits, aux = model(inputs, mask)
        loss, _ = tm.objective_total(logits, labels, aux, label_smoothing)
        loss.backward()
        # framework/train/trainer.cpp: the global norm of every gradient, one host read per step.
        norms = [p.grad.detach().norm(2) for p in params if p.grad is not None]
        norm = torch.stack(norms).norm(2) if norms else torch.zeros(())
        host = torch.stack([loss.detach().double(), norm.double()])
        loss_value, norm_value = float(host[0]), float(host[1])
        if not (math.isfinite(loss_value) and math.isfinite(norm_value)):
            skipped += 1
        else:
            if grad_clip > 0:
                coef = grad_clip / (norm_value + 1e-6)
                if coef < 1.0:
                    for p in params:
                        if p.grad is not None:
                            p.grad.mul_(coef)
            factor = schedule_factor(schedule, step, steps)
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * factor
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step == 0:
            first_loss = loss_value
        final_loss = loss_value
    seconds = time.perf_counter() - start
    timed = steps - warmup
    return {
        "steps_timed": timed,
        "seconds": seconds,
        "steps_per_s": timed / seconds if seconds > 0 else float("inf"),
        "samples_per_s": examples / seconds if seconds > 0 else float("inf"),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "params": int(sum(p.numel() for p in model.parameters())),
        "first_loss": first_loss,
        "final_loss": final_loss,
        "skipped_steps": skipped,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "torch": torch.__version__,
    }, model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", help="benchmark directory written by `attnlab bench train`")
    parser.add_argument("--check", action="store_true",
                        help="print the eval-mode task loss and logits sum of the first batch instead of training")
    args = parser.parse_args(argv)
    try:
        data = load_bench_dir(args.dir)
        result = run_check(data) if args.check else run_train(data)
    except (tm.ConfigError, tm.SafetensorsError, tm.WeightsMismatch, OSError) as e:
        print(f"train_bench.py: {args.dir}: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
