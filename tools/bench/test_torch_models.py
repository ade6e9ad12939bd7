#!/usr/bin/python3
"""Self-test of tools/bench/torch_models.py and train_bench.py, without the C++ side.

    python3 tools/bench/test_torch_models.py        (exit status 0 = all passed)

Plain asserts, no pytest. Small sizes: runs in a few seconds on one thread.
"""

import contextlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and os.path.exists("/usr/bin/python3") \
            and not os.environ.get("ATTNLAB_BENCH_REEXEC"):
        os.environ["ATTNLAB_BENCH_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3", os.path.abspath(__file__)] + sys.argv[1:])
    raise

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_models as tm  # noqa: E402
import train_bench  # noqa: E402

torch.set_num_threads(1)
TMP = tempfile.mkdtemp(prefix="attnlab_torch_models_test_")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def close(a, b, tol, what):
    err = (a - b).abs().max().item() if a.numel() else 0.0
    assert err <= tol, f"{what}: max abs difference {err:.3g} > {tol:.3g}"


def spec_tokens(vocab=30, max_length=12, classes=3, pad=0):
    return {"num_classes": classes, "vocab_size": vocab, "feature_dim": 0, "max_length": max_length, "pad_id": pad}


def spec_features(feature_dim=5, max_length=12, classes=4):
    return {"num_classes": classes, "vocab_size": 0, "feature_dim": feature_dim, "max_length": max_length, "pad_id": 0}


# Every configuration the bench may meet, small.
MODEL_CASES = {
    "enc_mha_tokens_mean": ({"name": "encoder_classifier", "d_model": 16, "layers": 2,
                             "attention": {"name": "mha", "heads": 4}}, spec_tokens()),
    "enc_mha_features_cls_sinusoidal": ({"name": "encoder_classifier", "d_model": 16, "layers": 1, "pooling": "cls",
                                         "learned_positions": False, "ff_dim": 24,
                                         "attention": {"name": "mha", "heads": 2, "bias": False}}, spec_features()),
    "enc_moh_cls": ({"name": "encoder_classifier", "d_model": 16, "layers": 2, "pooling": "cls",
                     "attention": {"name": "moh", "heads": 4, "shared_heads": 2, "routed_topk": 1}}, spec_tokens()),
    "enc_moh_per_layer_skip": ({"name": "encoder_classifier", "d_model": 16, "layers": 2,
                                "attention": {"name": "moh", "heads": 4, "shared_heads_per_layer": [1, 4],
                                              "routed_topk_per_layer": [2, 0], "skip_unselected": True}},
                               spec_tokens()),
    "enc_moh_query_norm": ({"name": "encoder_classifier", "d_model": 16, "layers": 1,
                            "attention": {"name": "moh", "heads": 4, "shared_heads": 1, "routed_topk": 2,
                                          "router": "query_norm"}}, spec_tokens()),
    "enc_mega": ({"name": "encoder_classifier", "d_model": 16, "layers": 1,
                  "attention": {"name": "mega", "z_dim": 8, "ema_dim": 4, "max_positions": 16}}, spec_tokens()),
    "mega_encoder_chunk_rotary_batchnorm": ({"name": "mega_encoder", "d_model": 16, "layers": 2, "norm": "batch",
                                             "classifier_hidden": 8,
                                             "attention": {"name": "mega", "z_dim": 8, "ema_dim": 4, "chunk_size": 5,
                                                           "rel_pos": "rotary", "norm": "scale", "truncation": 6}},
                                            spec_tokens()),
    "mega_encoder_postnorm_laplace": ({"name": "mega_encoder", "d_model": 16, "layers": 1, "prenorm": False,
                                       "norm": "rms",
                                       "attention": {"name": "mega", "z_dim": 8, "ema_dim": 2, "max_positions": 12,
                                                     "attention_fn": "laplace", "prenorm": False,
                                                     "bidirectional": False}}, spec_features()),
    "bilstm_additive": ({"name": "bilstm_attention", "embed_dim": 8, "hidden": 6, "attention_dim": 5}, spec_tokens()),
    "bilstm_dot": ({"name": "bilstm_attention", "embed_dim": 8, "hidden": 6, "score": "dot", "dropout": 0.1},
                   spec_tokens()),
}


def make_inputs(spec, b, t, gen):
    if spec["vocab_size"] > 0:
        return torch.randint(1, spec["vocab_size"], (b, t), generator=gen)
    return torch.randn(b, t, spec["feature_dim"], generator=gen)


def right_padding(lengths, t):
    return torch.arange(t).view(1, t) >= torch.tensor(lengths).view(-1, 1)


def randomize(model, seed):
    """Every parameter and buffer random (so the tests do not lean on a near-identity init)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.randn(t.shape, generator=gen) * 0.3)
                if name.endswith("running_var"):
                    t.abs_().add_(0.5)


# --------------------------------------------------------------------------------------------------

@test
def safetensors_round_trip_every_dtype():
    tensors = {
        "f32": torch.randn(3, 4), "f64": torch.randn(2, dtype=torch.float64),
        "i64": torch.tensor([[1, -2], [3, 2**40]], dtype=torch.int64), "bool": torch.tensor([True, False, True]),
        "f16": torch.randn(5).half(), "bf16": torch.randn(2, 2).bfloat16(), "i32": torch.tensor([7], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8), "i8": torch.tensor([-3], dtype=torch.int8),
        "i16": torch.tensor([300], dtype=torch.int16), "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 3),
    }
    path = os.path.join(TMP, "all.safetensors")
    tm.write_safetensors(path, tensors, {"format": "pt", "note": "x"})
    back, meta = tm.read_safetensors(path)
    assert meta == {"format": "pt", "note": "x"}, meta
    assert set(back) == set(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, (k, back[k].dtype, back[k].shape)
        assert torch.equal(back[k], v), k
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    assert (8 + n) % 8 == 0, "buffer must start 8-byte aligned"
    header = json.loads(raw[8:8 + n])
    assert list(header)[0] == "__metadata__"
    # Reference layout: dtype rank descending (I64 first, BOOL last), then name.
    order = [k for k in header if k != "__metadata__"]
    assert order[0] == "i64" and order[-1] == "bool", order
    # Malformed files are refused with the path in the message.
    for bad, why in [(raw[:5], "shorter"), (raw[:8] + b"x" + raw[9:], "JSON"), (raw + b"\0", "no tensor")]:
        p = os.path.join(TMP, "bad.safetensors")
        with open(p, "wb") as f:
            f.write(bad)
        try:
            tm.read_safetensors(p)
        except tm.SafetensorsError as e:
            assert why in str(e) and p in str(e), str(e)
        else:
            raise AssertionError(f"accepted a malformed file ({why})")


@test
def strict_loading_names_missing_unexpected_and_shapes():
    model = tm.build_model(*MODEL_CASES["enc_mha_tokens_mean"], fill_defaults=True)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    del sd["head.bias"]
    sd["blocks.0.attn.wg.weight"] = torch.zeros(2, 16)
    sd["final_norm.weight"] = torch.zeros(17)
    try:
        tm.load_weights_strict(model, sd, "init.safetensors")
    except tm.WeightsMismatch as e:
        msg = str(e)
        assert "missing from init.safetensors (1): head.bias" in msg, msg
        assert "unexpected in init.safetensors (1): blocks.0.attn.wg.weight" in msg, msg
        assert "final_norm.weight: file (17,) vs model (16,)" in msg, msg
    else:
        raise AssertionError("a mismatching state dict was loaded")


@test
def config_keys_are_checked():
    cfg, spec = MODEL_CASES["enc_mha_tokens_mean"]
    try:
        tm.build_model(cfg, spec)  # not every key given and no defaults filled
    except tm.ConfigError as e:
        assert "missing keys" in str(e) and "ff_dim" in str(e), str(e)
    else:
        raise AssertionError("an incomplete model section was accepted")
    try:
        tm.build_model(dict(cfg, rotary=True), spec, fill_defaults=True)
    except tm.ConfigError as e:
        assert "unknown keys ['rotary']" in str(e), str(e)
    else:
        raise AssertionError("an unknown key was accepted")


@test
def every_model_round_trips_through_safetensors():
    gen = torch.Generator().manual_seed(1)
    for case, (cfg, spec) in MODEL_CASES.items():
        torch.manual_seed(0)
        model = tm.build_model(cfg, spec, fill_defaults=True)
        randomize(model, 3)
        path = os.path.join(TMP, case + ".safetensors")
        tm.write_safetensors(path, model.state_dict())
        weights, _ = tm.read_safetensors(path)
        torch.manual_seed(123)  # a different init, overwritten by the file
        twin = tm.build_model(cfg, spec, fill_defaults=True)
        tm.load_weights_strict(twin, weights)
        for k, v in model.state_dict().items():
            assert torch.equal(twin.state_dict()[k], v), (case, k)
        x = make_inputs(spec, 3, 10, gen)
        mask = right_padding([10, 6, 8], 10)
        model.eval(), twin.eval()
        with torch.no_grad():
            a, _ = model(x, mask)
            b, _ = twin(x, mask)
        assert a.shape == (3, spec["num_classes"]) and torch.isfinite(a).all(), case
        assert torch.equal(a, b), case
        # One training step runs, gives gradients, and MoH returns one balance loss per routing layer.
        twin.train()
        logits, aux = twin(x, mask)
        total, task = tm.objective_total(logits, torch.tensor([0, 1, 2]), aux)
        total.backward()
        routing_layers = sum(1 for m in twin.modules()
                             if isinstance(m, tm.MixtureOfHeadsAttention) and m.router == "learned" and m.routed_topk > 0)
        assert len(aux) == routing_layers, (case, len(aux), routing_layers)
        assert all(name == "moh_balance" for name, _, _ in aux)
        if aux:
            expected = task + sum(v * w for _, v, w in aux) / len(aux)
            close(total.detach(), expected.detach(), 1e-6, case + " objective")
        grads = [p.grad for p in twin.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), case


def naive_attention(x, mha, mask):
    """softmax(Q K^T / sqrt(d_h)) V per head with loops over heads, from the module's weights."""
    b, t, d = x.shape
    h = mha.heads
    d_h = d // h
    q, k, v = mha.q_proj(x), mha.k_proj(x), mha.v_proj(x)
    outs = []
    for i in range(h):
        sl = slice(i * d_h, (i + 1) * d_h)
        s = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(d_h)
        if mask is not None:
            s = s.masked_fill(mask.view(b, 1, t), float("-inf"))
        outs.append(torch.softmax(s, -1) @ v[..., sl])
    return mha.out_proj(torch.cat(outs, -1))


@test
def mha_equals_torch_and_naive_reference():
    torch.manual_seed(5)
    for bias in (True, False):
        mha = tm.MultiHeadAttention(12, heads=3, bias=bias).double()
        x = torch.randn(2, 7, 12, dtype=torch.float64)
        mask = right_padding([7, 4], 7)
        for m in (None, mask):
            ours, aux = mha(x, m)
            assert aux == []
            ref, _ = F.multi_head_attention_forward(
                x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), 12, 3,
                torch.cat([mha.q_proj.weight, mha.k_proj.weight, mha.v_proj.weight]),
                torch.cat([mha.q_proj.bias, mha.k_proj.bias, mha.v_proj.bias]) if bias else None,
                None, None, False, 0.0, mha.out_proj.weight, mha.out_proj.bias if bias else None,
                training=False, key_padding_mask=m, need_weights=False)
            close(ours, ref.transpose(0, 1), 1e-12, "mha vs F.multi_head_attention_forward")
            close(ours, naive_attention(x, mha, m), 1e-12, "mha vs naive")
    # A fully padded example gives zero weights (out_proj bias), never NaN.
    out, _ = mha(x, torch.ones(2, 7, dtype=torch.bool))
    assert torch.isfinite(out).all()
    # Causal: changing a later token leaves earlier outputs unchanged.
    y = x.clone()
    y[:, 5] += 1.0
    a, _ = mha(x, None, True)
    b, _ = mha(y, None, True)
    close(a[:, :5], b[:, :5], 0.0, "causal mha")


def copy_projections(moh, mha):
    with torch.no_grad():
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            getattr(moh, name).load_state_dict(getattr(mha, name).state_dict())


@test
def moh_reduces_to_mha():
    torch.manual_seed(7)
    d, h = 16, 4
    mha = tm.MultiHeadAttention(d, heads=h).double()
    x = torch.randn(3, 9, d, dtype=torch.float64)
    mask = right_padding([9, 5, 1], 9)
    ref, _ = mha(x, mask)
    # (h_s, K): all shared with W_s = 0 (gates softmax(0) * h_s = 1); every routed head active with zero
    # routers (K/K = 1, alpha 2/2 = 1); no shared heads, all routed.
    for h_s, k in ((4, 0), (1, 3), (2, 2), (0, 4)):
        for skip in (False, True):
            moh = tm.MixtureOfHeadsAttention(d, heads=h, shared_heads=h_s, routed_topk=k, skip_unselected=skip).double()
            copy_projections(moh, mha)
            with torch.no_grad():
                for lin in (moh.wg, moh.wg_0, moh.wg_1):
                    if lin is not None:
                        lin.weight.zero_()
            moh.train()
            out, aux = moh(x, mask)
            close(out, ref, 1e-12, f"moh(h_s={h_s}, K={k}, skip={skip}) vs mha")
            if k > 0:
                # Uniform routing: l_aux = h_r * sum_i P_i f_i = K.
                assert len(aux) == 1 and abs(aux[0][1].item() - k) < 1e-12 and aux[0][2] == 0.01, aux
            else:
                assert aux == []
            moh.eval()
            assert moh(x, mask)[1] == [], "no balance loss in eval mode"
    # query_norm with K = h_r uses every head with gate 1: MHA exactly.
    moh = tm.MixtureOfHeadsAttention(d, heads=h, shared_heads=1, routed_topk=3, router="query_norm").double()
    copy_projections(moh, mha)
    assert sum(1 for _ in moh.parameters()) == 8
    close(moh(x, mask)[0], ref, 1e-12, "moh query_norm K = h_r vs mha")


@test
def moh_gates_and_skip_path():
    torch.manual_seed(11)
    d = 16
    x = torch.randn(2, 8, d, dtype=torch.float64)
    mask = right_padding([8, 5], 8)
    for h_s, k, router in ((2, 1, "learned"), (1, 2, "learned"), (0, 2, "learned"), (4, 0, "learned"),
                           (1, 1, "query_norm")):
        dense = tm.MixtureOfHeadsAttention(d, heads=4, shared_heads=h_s, routed_topk=k, router=router).double()
        skip = tm.MixtureOfHeadsAttention(d, heads=4, shared_heads=h_s, routed_topk=k, router=router,
                                          skip_unselected=True).double()
        skip.load_state_dict(dense.state_dict())
        valid = mask.logical_not()
        if router == "learned":
            gates, selected, _ = tm.route_learned(x, valid, dense.wg, dense.wg_0, dense.wg_1, 4, h_s, k, True)
            if h_s > 0 and k > 0:
                # The code's constants: shared gates sum to h_s * a1, routed to K * a2, a1 + a2 = 2.
                s = gates[..., :h_s].sum(-1) / h_s + gates[..., h_s:].sum(-1) / k
                close(s, torch.full_like(s, 2.0), 1e-12, "moh gate sums")
            assert (selected.sum(-1) == h_s + k).all()
            assert (gates[~selected] == 0).all()
        for causal in (False, True):
            a, aux_a = dense(x, mask, causal)
            b, aux_b = skip(x, mask, causal)
            close(a, b, 1e-12, f"moh skip vs dense ({h_s}, {k}, {router}, causal={causal})")
            la = a.sum() + sum(v for _, v, _ in aux_a)
            lb = b.sum() + sum(v for _, v, _ in aux_b)
            ga = torch.autograd.grad(la, [p for p in dense.parameters()], allow_unused=True)
            gb = torch.autograd.grad(lb, [p for p in skip.parameters()], allow_unused=True)
            for g1, g2 in zip(ga, gb):
                if g1 is None or g2 is None:
                    assert g1 is None and g2 is None
                else:
                    close(g1, g2, 1e-11, "moh skip vs dense gradients")


def ema_recurrence(x, ema, mask, causal):
    """The recurrence s_t = p beta x_t + q s_{t-1} with loops (float64), truncation as s_t - q^L s_{t-L}."""
    x = x.masked_fill(mask.unsqueeze(-1), 0.0) if mask is not None else x
    b, t, d = x.shape
    p, q = (c.detach().squeeze(-1) for c in ema.coefficients())  # (kD, h)
    beta = ema.beta.detach().squeeze(-1)
    eta = ema.gamma.detach() * ema.scale
    taps = min(ema.truncation, t) if ema.truncation > 0 else t
    y = torch.zeros(b, t, d, dtype=torch.float64)
    for direction in range(2 if ema.bidirectional and not causal else 1):
        rows = slice(direction * d, (direction + 1) * d)
        steps = range(t) if direction == 0 else range(t - 1, -1, -1)
        s = torch.zeros(b, d, ema.ema_dim, dtype=torch.float64)
        history = []
        for i, step in enumerate(steps):
            s = p[rows] * beta[rows] * x[:, step, :, None] + q[rows] * s
            history.append(s)
            kept = s - (q[rows] ** taps) * history[i - taps] if i >= taps else s
            y[:, step] += (kept * eta[rows]).sum(-1)
    return y


@test
def mega_ema_fft_equals_recurrence():
    torch.manual_seed(13)
    x = torch.randn(2, 9, 6, dtype=torch.float64)
    mask = right_padding([9, 6], 9)
    for bidirectional in (True, False):
        for truncation in (0, 4):
            ema = tm.MultiHeadEma(6, ema_dim=3, bidirectional=bidirectional, truncation=truncation).double()
            for causal in (False, True):
                for m in (None, mask):
                    close(ema.moving_average(x, m, causal), ema_recurrence(x, ema, m, causal), 1e-12,
                          f"ema bidirectional={bidirectional} truncation={truncation} causal={causal}")


@test
def mega_bias_chunks_and_padding():
    torch.manual_seed(17)
    bias = tm.SimpleRelativePositionBias(6)
    b = bias(4)
    for i in range(4):
        for j in range(4):
            assert b[i, j] == bias.rel_pos_bias[5 + j - i]
    # Mega-chunk (c = 3, T = 7, so the module pads the last chunk): with the EMA kernel off (gamma = 0,
    # leaving the per-position SiLU(omega x)) only attention mixes positions, and it sees keys of the
    # query's own chunk only: changing position 4 (chunk 1) leaves chunk 0's outputs unchanged.
    mega = tm.MegaAttention(8, z_dim=4, ema_dim=2, chunk_size=3).double()
    randomize(mega, 2)
    with torch.no_grad():
        mega.move.gamma.zero_()
    mega.eval()
    x = torch.randn(2, 7, 8, dtype=torch.float64)
    y = x.clone()
    y[:, 4] += 1.0
    close(mega(x)[0][:, :3], mega(y)[0][:, :3], 1e-14, "mega chunks are independent")
    assert (mega(x)[0][:, 3:] - mega(y)[0][:, 3:]).abs().max() > 1e-3
    # Appended padding changes no real position's logits (mean pooling, cls pooling, mega, bilstm).
    gen = torch.Generator().manual_seed(4)
    for case in ("enc_mha_tokens_mean", "enc_moh_cls", "enc_mega", "mega_encoder_chunk_rotary_batchnorm",
                 "bilstm_additive", "mega_encoder_postnorm_laplace"):
        cfg, spec = MODEL_CASES[case]
        model = tm.build_model(cfg, spec, fill_defaults=True).double()
        randomize(model, 9)
        model.eval()
        x = make_inputs(spec, 2, 6, gen)
        if x.is_floating_point():
            x = x.double()
        extra = make_inputs(spec, 2, 4, gen)
        if extra.is_floating_point():
            extra = extra.double()
        longer = torch.cat([x, extra], 1)
        with torch.no_grad():
            a, _ = model(x, torch.zeros(2, 6, dtype=torch.bool))
            b, _ = model(longer, right_padding([6, 6], 10))
        close(a, b, 1e-10, f"{case}: padding invariance")


def write_bench_dir(path, model_cfg, spec, n=10, t=8, batch=4, steps=3, warmup=1, padded=True, grad_clip=1.0,
                    extra=None):
    os.makedirs(path, exist_ok=True)
    torch.manual_seed(0)
    model = tm.build_model(model_cfg, spec, fill_defaults=True)
    randomize(model, 21)
    tm.write_safetensors(os.path.join(path, "init.safetensors"), model.state_dict())
    full_model = {k: v for k, v in tm.resolve_section(model_cfg, tm.MODEL_SCHEMAS, "model", True).items()}
    if "attention" in full_model:
        full_model["attention"] = tm.resolve_section(full_model["attention"], tm.ATTENTION_SCHEMAS, "a", True)
    # As tools/bench/train_bench.cpp writes it (the recipe's resolved optim section, extra keys).
    config = {"name": "test", "model": full_model, "spec": spec, "batch_size": batch, "steps": steps,
              "warmup_steps_excluded": warmup, "threads": 1,
              "optim": {"name": "adamw", "lr": 1e-3, "weight_decay": 0.05, "decay_biases_and_norms": False,
                        "beta1": 0.9, "beta2": 0.98, "eps": 1e-8},
              "grad_clip": grad_clip, "label_smoothing": 0.1, "check_loss": 1.0}
    config.update(extra or {})
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    gen = torch.Generator().manual_seed(8)
    x = make_inputs(spec, n, t, gen)
    np.save(os.path.join(path, "inputs.npy"), x.numpy())
    np.save(os.path.join(path, "labels.npy"), torch.randint(0, spec["num_classes"], (n,), generator=gen).numpy())
    if padded:
        lengths = torch.randint(1, t + 1, (n,), generator=gen).tolist()
        np.save(os.path.join(path, "padding_mask.npy"), right_padding(lengths, t).numpy())
    return model


def run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = train_bench.main(argv)
    return code, out.getvalue(), err.getvalue()


@test
def train_bench_end_to_end():
    schedule = {"schedule": {"name": "warmup_cosine", "warmup_steps": 1, "min_lr_ratio": 0.1}}
    for case, padded, extra in (("enc_moh_cls", True, {}), ("enc_mha_features_cls_sinusoidal", False, schedule),
                                ("mega_encoder_chunk_rotary_batchnorm", True, {"collate": "longest"}),
                                ("bilstm_additive", True, {"drop_last": False})):
        cfg, spec = MODEL_CASES[case]
        path = os.path.join(TMP, "bench_" + case)
        model = write_bench_dir(path, cfg, spec, padded=padded, extra=extra)
        code, out, err = run_main([path, "--check"])
        assert code == 0 and out.count("\n") == 1, (case, code, out, err)
        check = json.loads(out)
        # The same quantity by hand: eval mode, first batch = examples 0..B-1, plain cross-entropy.
        data = train_bench.load_bench_dir(path)
        model.eval()
        with torch.no_grad():
            x, mask = data["inputs"][:4], (data["padding_mask"][:4] if padded else None)
            logits, _ = model(x, mask)
            loss = F.cross_entropy(logits, data["labels"][:4])
        tol = 1e-5 if extra.get("collate") == "longest" else 1e-6  # a trimmed batch: round-off only
        assert abs(check["check_loss"] - loss.item()) < tol, (case, check, loss.item())
        assert abs(check["check_logits_sum"] - logits.double().sum().item()) < 1e-4, case
        code, out, err = run_main([path])
        assert code == 0 and out.count("\n") == 1, (case, code, out, err)
        result = json.loads(out)
        for key in ("steps_timed", "seconds", "steps_per_s", "samples_per_s", "peak_rss_mib", "params",
                    "first_loss", "final_loss"):
            assert key in result, (case, key, result)
        assert result["steps_timed"] == 2 and result["params"] == sum(p.numel() for p in model.parameters())
        assert math.isfinite(result["first_loss"]) and math.isfinite(result["final_loss"])
        assert result["skipped_steps"] == 0 and result["threads"] == 1
        per_step = 3 if extra.get("drop_last") is False else 4  # timed steps 1, 2: batches of 4 and 2, or 4 and 4
        assert abs(result["samples_per_s"] - per_step * result["steps_per_s"]) < 1e-6 * result["samples_per_s"]
    # Weights of another model are refused with the names, exit status 2.
    other = os.path.join(TMP, "bench_enc_moh_cls", "init.safetensors")
    tm.write_safetensors(other, {"embed.weight": torch.zeros(30, 16)})
    code, out, err = run_main([os.path.join(TMP, "bench_enc_moh_cls"), "--check"])
    assert code == 2 and out == "" and "missing from init.safetensors" in err and "head.bias" in err, (code, err)


@test
def batches_follow_the_trainer_sampler_and_collation():
    # drop_last (the trainer's default): 10 examples, batch 4 -> batches 0-3, 4-7, then 0-3 again.
    got = [train_bench.batch_indices(10, 4, s).tolist() for s in range(3)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3]], got
    # Without drop_last the epoch's tail is a smaller batch.
    got = [train_bench.batch_indices(10, 4, s, drop_last=False).tolist() for s in range(4)]
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]], got
    # "longest": padded to the batch's longest example; no mask when nothing is padded.
    data = {"inputs": torch.arange(24).view(4, 6), "labels": torch.arange(4),
            "padding_mask": right_padding([3, 2, 5, 5], 6)}
    x, y, m = train_bench.batch_at(data, 0, 2, collate="longest")
    assert x.shape == (2, 3) and torch.equal(m, right_padding([3, 2], 3)) and torch.equal(y, torch.tensor([0, 1]))
    x, y, m = train_bench.batch_at(data, 1, 2, collate="longest")
    assert x.shape == (2, 5) and m is None
    x, y, m = train_bench.batch_at(data, 1, 2)  # fixed: rows as stored
    assert x.shape == (2, 6) and m.shape == (2, 6)


@test
def schedules_match_framework_optim():
    f = train_bench.schedule_factor
    assert f(None, 7, 10) == 1.0
    cos = {"name": "warmup_cosine", "warmup_steps": 2, "min_lr_ratio": 0.1}
    assert [f(cos, s, 10) for s in (0, 1)] == [0.5, 1.0]
    assert abs(f(cos, 6, 10) - (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))) < 1e-15
    assert abs(f(cos, 10, 10) - 0.1) < 1e-15 and abs(f(cos, 50, 10) - 0.1) < 1e-15
    lin = {"name": "warmup_linear", "warmup_steps": 0, "min_lr_ratio": 0.0}
    assert f(lin, 5, 10) == 0.5
    inv = {"name": "warmup_inverse_sqrt", "warmup_steps": 4, "min_lr_ratio": 0.0}
    assert f(inv, 3, 10) == 1.0 and f(inv, 15, 10) == 0.5


@test
def optimizer_groups_follow_the_cpp_rule():
    model = tm.build_model(*MODEL_CASES["enc_mega"], fill_defaults=True)
    opt = train_bench.make_optimizer(model, {"name": "adamw", "lr": 0.1, "weight_decay": 0.5, "beta1": 0.8,
                                             "beta2": 0.9, "eps": 1e-7, "decay_biases_and_norms": False})
    assert isinstance(opt, torch.optim.AdamW)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.5 and plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in plain["params"])
    assert decayed["betas"] == (0.8, 0.9) and decayed["eps"] == 1e-7 and not decayed["amsgrad"]
    assert decayed["base_lr"] == 0.1
    everything = train_bench.make_optimizer(model, {"name": "adamw", "lr": 0.1, "weight_decay": 0.5, "betas": [0.8, 0.9],
                                                    "eps": 1e-7, "decay_biases_and_norms": True})
    assert len(everything.param_groups) == 1
    try:
        train_bench.make_optimizer(model, {"name": "adamw", "lr": 0.1, "weight_decay": 0.5, "eps": 1e-7})
    except tm.ConfigError as e:
        assert "beta1" in str(e), str(e)
    else:
        raise AssertionError("an optim section without betas was accepted")


def main():
    failures = 0
    start = time.perf_counter()
    for fn in TESTS:
        t0 = time.perf_counter()
        try:
            fn()
            print(f"ok    {fn.__name__} ({time.perf_counter() - t0:.2f} s)")
        except Exception as e:  # report every failure, then exit non-zero
            failures += 1
            import traceback
            traceback.print_exc()
            print(f"FAIL  {fn.__name__}: {e}")
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(TESTS) - failures}/{len(TESTS)} passed in {time.perf_counter() - start:.1f} s "
          f"(torch {torch.__version__}, {sys.executable})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
