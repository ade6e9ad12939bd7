"""PyTorch (1.13 API) twins of attnlab's C++ models, for `tools/bench/train_bench.py`.

Each class mirrors its C++ counterpart line by line: the same parameter and buffer names and
shapes (so `init.safetensors` exported by the C++ side loads with strict=True), the same forward
math in the same operation order (so eval-mode losses agree to float32 round-off). Initialisation
is NOT mirrored: weights always come from the C++ model's file.

| recipe name                | C++ source                                                      |
|----------------------------|-----------------------------------------------------------------|
| encoder_classifier         | models/encoder_classifier.{h,cpp}, models/encoder_block.{h,cpp} |
| mega_encoder               | models/mega_encoder.{h,cpp}                                     |
| bilstm_attention           | models/bilstm_attention.{h,cpp}, attention/additive/            |
| attention mha              | attention/mha/mha.{h,cpp}                                       |
| attention moh              | attention/moh/{moh,router}.{h,cpp}                              |
| attention mega             | attention/mega/*.{h,cpp}                                        |

The ForwardContext taps (on_scores / on_weights / on_embeddings / report) are left out: with
nothing recording or perturbing they return their input unchanged. MoH's per-forward routing
statistics (no-grad, for logging) are left out too.

Attention modules return (out, aux_losses) with aux_losses a list of (name, value, weight), as the
C++ `AttentionOutput`; `objective_total` combines them as framework/objective/objective.cpp does.

Also here: a plain-Python + numpy safetensors reader and writer (no `safetensors` package needed),
and `load_weights_strict`.
"""

import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# --------------------------------------------------------------------------------------------------
# Recipe keys and their defaults (tools/components/*.cpp schemas). The C++ bench writes every key
# resolved; `resolve_section` refuses missing and unknown keys so a schema change cannot slip by.

MODEL_SCHEMAS = {
    "encoder_classifier": {  # tools/components/model_components.cpp
        "d_model": 64, "layers": 2, "ff_dim": 0, "dropout": 0.1, "pooling": "mean",
        "learned_positions": True, "norm_eps": 1e-5, "attention": {"name": "mha"},
    },
    "mega_encoder": {  # tools/components/model_components.cpp
        "d_model": 80, "layers": 6, "ffn_dim": 0, "dropout": 0.1, "hidden_dropout": 0.0,
        "norm": "layer", "prenorm": True, "classifier_hidden": 0, "attention": {"name": "mega"},
    },
    "bilstm_attention": {  # tools/components/attention_regularizer_paper_components.cpp
        "embed_dim": 300, "hidden": 128, "score": "additive", "attention_dim": 128, "dropout": 0.0,
    },
}

ATTENTION_SCHEMAS = {  # tools/components/attention_components.cpp
    "mha": {"heads": 4, "dropout": 0.0, "bias": True},
    "moh": {
        "heads": 8, "shared_heads": 2, "routed_topk": 4, "shared_heads_per_layer": [],
        "routed_topk_per_layer": [], "router": "learned", "dropout": 0.0, "bias": True,
        "skip_unselected": False, "balance_weight": 0.01,
    },
    "mega": {
        "z_dim": 64, "v_dim": 0, "ema_dim": 16, "bidirectional": True, "truncation": 0,
        "attention_fn": "softmax", "rel_pos": "simple", "max_positions": 1024, "chunk_size": -1,
        "dropout": 0.0, "attention_dropout": 0.0, "hidden_dropout": 0.0, "norm": "layer",
        "prenorm": True,
    },
}


class ConfigError(ValueError):
    pass


def resolve_section(section, schemas, what, fill_defaults=False):
    """Checks a {name: ..., key: value} section against its schema and returns it as a dict.

    fill_defaults=False (the bench): every key must be present (the C++ side writes them resolved).
    fill_defaults=True (tests, hand-written configs): missing keys take the C++ schema defaults.
    Unknown keys are always an error: a key this file does not know may change the math.
    """
    if not isinstance(section, dict) or "name" not in section:
        raise ConfigError(f"{what}: expected an object with a 'name', got {section!r}")
    name = section["name"]
    if name not in schemas:
        raise ConfigError(f"{what}: '{name}' has no PyTorch twin here (known: {', '.join(sorted(schemas))})")
    schema = schemas[name]
    unknown = sorted(k for k in section if k != "name" and k not in schema)
    if unknown:
        raise ConfigError(f"{what} '{name}': unknown keys {unknown} (tools/bench/torch_models.py mirrors "
                          f"only {sorted(schema)}; update it to the C++ schema)")
    missing = sorted(k for k in schema if k not in section)
    if missing and not fill_defaults:
        raise ConfigError(f"{what} '{name}': missing keys {missing} (the C++ bench writes every key resolved)")
    out = {"name": name}
    for key, default in schema.items():
        out[key] = section.get(key, default)
    return out


# --------------------------------------------------------------------------------------------------
# Shared attention helpers (attention/mha/mha.cpp)

def attention_key_mask(key_padding_mask, causal, t_q, t_k, device):
    """(B|1, 1, Tq, Tk) bool, True = masked, or None when nothing is masked."""
    masked = None
    if key_padding_mask is not None:
        masked = key_padding_mask.to(device).view(key_padding_mask.size(0), 1, 1, t_k)
    if causal:
        future = torch.ones(t_q, t_k, dtype=torch.bool, device=device).triu(1).view(1, 1, t_q, t_k)
        masked = future if masked is None else torch.logical_or(masked, future)
    return masked


def masked_softmax(scores, masked):
    """softmax over the last dim without `masked` keys; rows with every key masked become zeros."""
    if masked is None:
        return torch.softmax(scores, -1)
    dead = masked.all(-1, keepdim=True)
    drop = torch.logical_and(masked, torch.logical_not(dead))
    bias = torch.zeros(drop.shape, dtype=scores.dtype, device=scores.device).masked_fill_(drop, -math.inf)
    weights = torch.softmax(scores + bias, -1)
    if scores.is_cuda or bool(dead.any()):
        weights = weights * torch.logical_not(dead).to(weights.dtype)
    return weights


def check_attention_call(x, key_padding_mask, d_model, who):
    if x.dim() != 3 or x.size(2) != d_model:
        raise ValueError(f"{who}: input must be (B, T, {d_model}), got {tuple(x.shape)}")
    if key_padding_mask is not None:
        if key_padding_mask.dtype != torch.bool or key_padding_mask.shape != x.shape[:2]:
            raise ValueError(f"{who}: key_padding_mask must be (B, T) bool, got "
                             f"{tuple(key_padding_mask.shape)} {key_padding_mask.dtype}")


# --------------------------------------------------------------------------------------------------
# mha (attention/mha/mha.cpp)

class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, heads=4, dropout=0.0, bias=True):
        super().__init__()
        if d_model % heads != 0:
            raise ValueError(f"mha: d_model ({d_model}) must be divisible by heads ({heads})")
        self.d_model, self.heads, self.dropout = d_model, heads, dropout
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x, key_padding_mask=None, causal=False):
        check_attention_call(x, key_padding_mask, self.d_model, "mha")
        b, t = x.size(0), x.size(1)
        h = self.heads
        d_h = self.d_model // h

        def split(y):
            return y.view(b, t, h, d_h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = torch.matmul(q * (1.0 / math.sqrt(d_h)), k.transpose(-2, -1))
        masked = attention_key_mask(key_padding_mask, causal, t, t, x.device)
        weights = masked_softmax(scores, masked)
        weights = F.dropout(weights, self.dropout, self.training)
        heads_out = torch.matmul(weights, v)
        merged = heads_out.transpose(1, 2).contiguous().view(b, t, h * d_h)
        return self.out_proj(merged), []


# --------------------------------------------------------------------------------------------------
# moh (attention/moh/router.cpp, attention/moh/moh.cpp)

def _router_dtype(t):
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def _dtype_eps(dtype):
    return torch.finfo(dtype).eps


def _top_k_mask(p, k):
    indices = p.detach().topk(k, -1)[1]
    return torch.zeros_like(p).detach().scatter(-1, indices, 1.0)


def load_balance_loss(probs, routed_mask, valid):
    h_r = probs.size(-1)
    p = probs.reshape(-1, h_r)
    m = routed_mask.detach().reshape(-1, h_r)
    if valid is not None:
        w = valid.reshape(-1, 1).to(p.dtype)
    else:
        w = torch.ones(p.size(0), 1, dtype=p.dtype, device=p.device)
    count = w.sum().clamp_min(1.0)
    mean_prob = (p * w).sum(0) / count
    fraction = (m * w).sum(0) / count
    return (mean_prob * fraction).sum() * float(h_r)


def route_learned(x, valid, wg, wg_0, wg_1, heads, shared_heads, routed_topk, with_balance):
    """Returns (gates (B,T,H), selected (B,T,H) bool, balance scalar or None)."""
    b, t = x.size(0), x.size(1)
    h_r = heads - shared_heads
    dtype = _router_dtype(x)
    ones = torch.ones(b, t, 1, dtype=dtype, device=x.device)
    shared_gates = routed_gates = routed_mask = balance = None
    if shared_heads > 1:
        shared_gates = torch.softmax(wg_1(x).to(dtype), -1) * float(shared_heads)
    elif shared_heads == 1:
        shared_gates = ones
    if routed_topk > 0:
        probs = torch.softmax(wg(x).to(dtype), -1)
        routed_mask = _top_k_mask(probs, routed_topk)
        kept = probs * routed_mask
        denom = kept.sum(-1, keepdim=True).clamp_min(_dtype_eps(dtype))
        routed_gates = kept / denom * float(routed_topk)
        if with_balance:
            balance = load_balance_loss(probs, routed_mask, valid)
        if shared_heads > 0:
            alpha = torch.softmax(wg_0(x).to(dtype), -1) * 2.0
            shared_gates = shared_gates * alpha.narrow(-1, 0, 1)
            routed_gates = routed_gates * alpha.narrow(-1, 1, 1)
    assert routed_topk > 0 or h_r == 0, "moh: routed heads without routed_topk"
    gates, selected = [], []
    if shared_heads > 0:
        gates.append(shared_gates)
        selected.append(torch.ones(b, t, shared_heads, dtype=torch.bool, device=x.device))
    if h_r > 0:
        gates.append(routed_gates)
        selected.append(routed_mask.to(torch.bool))
    return torch.cat(gates, -1), torch.cat(selected, -1), balance


def route_query_norm(q, shared_heads, routed_topk):
    b, heads, t = q.size(0), q.size(1), q.size(2)
    h_r = heads - shared_heads
    dtype = _router_dtype(q)
    gates = torch.ones(b, t, heads, dtype=dtype, device=q.device)
    if h_r > 0:
        logits = q.detach().narrow(1, shared_heads, h_r).to(dtype).norm(2, -1)  # (B,h_r,T)
        logits = logits.transpose(1, 2)  # (B,T,h_r)
        if h_r > 1:
            centred = logits - logits.mean(-1, keepdim=True)
            std = (centred * centred).sum(-1, True).div(float(h_r - 1)).sqrt()
            logits = logits / std.clamp_min(_dtype_eps(dtype))
        probs = torch.softmax(logits, -1)
        mask = _top_k_mask(probs, routed_topk)
        gates.narrow(-1, shared_heads, h_r).copy_(mask)
    return gates, gates.to(torch.bool), None


class MixtureOfHeadsAttention(nn.Module):
    def __init__(self, d_model, heads=8, shared_heads=2, routed_topk=4, router="learned", dropout=0.0,
                 bias=True, skip_unselected=False, balance_weight=0.01):
        super().__init__()
        h, h_s, k = heads, shared_heads, routed_topk
        if d_model % h != 0:
            raise ValueError(f"moh: d_model ({d_model}) must be divisible by heads ({h})")
        if not 0 <= h_s <= h:
            raise ValueError(f"moh: shared_heads={h_s} must be in [0, heads {h}]")
        if k < 0 or k > h - h_s:
            raise ValueError(f"moh: routed_topk={k} is more than the {h - h_s} routed heads")
        if k == 0 and h_s != h:
            raise ValueError(f"moh: routed_topk=0 would leave the {h - h_s} routed heads unused")
        if router not in ("learned", "query_norm"):
            raise ValueError(f"moh: router must be 'learned' or 'query_norm' (got '{router}')")
        self.d_model, self.heads, self.shared_heads, self.routed_topk = d_model, h, h_s, k
        self.router, self.dropout, self.skip_unselected = router, dropout, skip_unselected
        self.balance_weight = balance_weight
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)
        self.wg = self.wg_0 = self.wg_1 = None
        if router == "learned":
            if k > 0:
                self.wg = nn.Linear(d_model, h - h_s, bias=False)
            if k > 0 and h_s > 0:
                self.wg_0 = nn.Linear(d_model, 2, bias=False)
            if h_s > 1:
                self.wg_1 = nn.Linear(d_model, h_s, bias=False)

    @property
    def head_dim(self):
        return self.d_model // self.heads

    @property
    def routed_heads(self):
        return self.heads - self.shared_heads

    def _dense_heads(self, q, k, v, key_padding_mask, causal):
        t = q.size(2)
        scores = torch.matmul(q * (1.0 / math.sqrt(self.head_dim)), k.transpose(-2, -1))
        masked = attention_key_mask(key_padding_mask, causal, t, t, q.device)
        weights = masked_softmax(scores, masked)
        weights = F.dropout(weights, self.dropout, self.training)
        return torch.matmul(weights, v)

    def _skip_heads(self, q, k, v, selected, key_padding_mask, causal):
        b, t, d_h = q.size(0), q.size(2), self.head_dim
        h_s, h_r = self.shared_heads, self.routed_heads
        scale = 1.0 / math.sqrt(d_h)
        parts = []
        if h_s > 0:
            masked = attention_key_mask(key_padding_mask, causal, t, t, q.device)
            scores = torch.matmul(q.narrow(1, 0, h_s) * scale, k.narrow(1, 0, h_s).transpose(-2, -1))
            weights = masked_softmax(scores, masked)
            weights = F.dropout(weights, self.dropout, self.training)
            parts.append(torch.matmul(weights, v.narrow(1, 0, h_s)))
        if h_r > 0:
            q_r, k_r, v_r = q.narrow(1, h_s, h_r), k.narrow(1, h_s, h_r), v.narrow(1, h_s, h_r)
            sel = selected.narrow(-1, h_s, h_r).transpose(1, 2)  # (B,h_r,T) bool
            counts = sel.sum(-1)  # (B,h_r) int64
            n = max(int(counts.max().item()), 1)
            order = torch.sort(sel.logical_not().to(torch.int32), stable=True, dim=-1, descending=False)[1]
            slots = order.narrow(-1, 0, n)  # (B,h_r,n)
            slot_used = torch.arange(n, dtype=counts.dtype, device=counts.device).view(1, 1, n) < counts.unsqueeze(-1)
            row_index = slots.unsqueeze(-1).expand(b, h_r, n, d_h)
            q_sel = q_r.gather(2, row_index)
            scores = torch.matmul(q_sel * scale, k_r.transpose(-2, -1))  # (B,h_r,n,T)
            masked = None
            if key_padding_mask is not None:
                masked = key_padding_mask.to(q.device).view(b, 1, 1, t)
            if causal:
                key_pos = torch.arange(t, dtype=slots.dtype, device=slots.device).view(1, 1, 1, t)
                future = key_pos > slots.unsqueeze(-1)
                masked = future if masked is None else torch.logical_or(masked, future)
            weights = masked_softmax(scores, masked)
            weights = F.dropout(weights, self.dropout, self.training)
            out_sel = torch.matmul(weights, v_r)
            out_sel = torch.where(slot_used.unsqueeze(-1), out_sel, torch.zeros_like(out_sel))
            parts.append(torch.zeros(b, h_r, t, d_h, dtype=q.dtype, device=q.device).scatter(2, row_index, out_sel))
        return torch.cat(parts, 1)

    def forward(self, x, key_padding_mask=None, causal=False):
        check_attention_call(x, key_padding_mask, self.d_model, "moh")
        b, t, h, d_h = x.size(0), x.size(1), self.heads, self.head_dim
        valid = key_padding_mask.logical_not() if key_padding_mask is not None else None

        def split(y):
            return y.view(b, t, h, d_h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        if self.router == "learned":
            gates, selected, balance = route_learned(x, valid, self.wg, self.wg_0, self.wg_1, h,
                                                     self.shared_heads, self.routed_topk, self.training)
        else:
            gates, selected, balance = route_query_norm(q, self.shared_heads, self.routed_topk)
        # The C++ skip path runs iff skip_unselected, routed heads exist and nothing observes the site
        # (in the trainer and the bench nothing does).
        if self.skip_unselected and self.routed_heads > 0:
            heads_out = self._skip_heads(q, k, v, selected, key_padding_mask, causal)
        else:
            heads_out = self._dense_heads(q, k, v, key_padding_mask, causal)
        g = gates.to(heads_out.dtype).transpose(1, 2).unsqueeze(-1)
        gated = heads_out * g
        merged = gated.transpose(1, 2).contiguous().view(b, t, h * d_h)
        aux = []
        if balance is not None:
            aux.append(("moh_balance", balance, self.balance_weight))
        return self.out_proj(merged), aux


# --------------------------------------------------------------------------------------------------
# mega (attention/mega/{sequence_norm,ema,relative_position,normalized_ffn,mega_attention}.cpp)

class SequenceNorm(nn.Module):
    def __init__(self, kind, dim, eps=1e-5, momentum=0.1):
        super().__init__()
        if kind not in ("layer", "scale", "rms", "batch"):
            raise ValueError(f"mega norm: unknown kind '{kind}' (expected layer | scale | rms | batch)")
        self.kind, self.dim, self.eps, self.momentum = kind, dim, eps, momentum
        if kind == "scale":
            self.scalar = nn.Parameter(torch.ones(1))
            return
        self.weight = nn.Parameter(torch.ones(dim))
        if kind == "rms":
            return
        self.bias = nn.Parameter(torch.zeros(dim))
        if kind == "batch":
            self.register_buffer("running_mean", torch.zeros(dim))
            self.register_buffer("running_var", torch.ones(dim))

    def forward(self, x, key_padding_mask=None):
        if self.kind == "layer":
            return torch.layer_norm(x, [self.dim], self.weight, self.bias, self.eps)
        if self.kind == "batch":
            return self._batch_norm(x, key_padding_mask)
        inv_rms = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        if self.kind == "scale":
            return self.scalar * x * inv_rms
        return self.weight * x * inv_rms

    def _batch_norm(self, x, key_padding_mask):
        if self.training:
            if key_padding_mask is not None:
                keep = torch.logical_not(key_padding_mask).to(x.dtype).unsqueeze(-1)
            else:
                keep = torch.ones(x.size(0), x.size(1), 1, dtype=x.dtype, device=x.device)
            count = keep.sum()
            mean = (x * keep).sum((0, 1)) / count.clamp_min(1.0)
            var = ((x - mean).pow(2) * keep).sum((0, 1)) / count.clamp_min(1.0)
            with torch.no_grad():
                unbiased = var.detach() * count / (count - 1.0).clamp_min(1.0)
                self.running_mean.mul_(1.0 - self.momentum).add_(self.momentum * mean.detach().to(self.running_mean.dtype))
                self.running_var.mul_(1.0 - self.momentum).add_(self.momentum * unbiased.to(self.running_var.dtype))
        else:
            mean = self.running_mean.to(x.dtype)
            var = self.running_var.to(x.dtype)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


def _fft_convolve(x, k, n, start, count):
    x_f = torch.fft.rfft(x, n, -1)
    k_f = torch.fft.rfft(k, n, -1)
    return torch.fft.irfft(x_f * k_f, n, -1).narrow(-1, start, count)


class MultiHeadEma(nn.Module):
    def __init__(self, d_model, ema_dim=16, bidirectional=True, truncation=0):
        super().__init__()
        rows = 2 * d_model if bidirectional else d_model
        h = ema_dim
        self.d_model, self.ema_dim, self.bidirectional, self.truncation = d_model, h, bidirectional, truncation
        self.scale = 1.0 / math.sqrt(h)
        sign = torch.ones(h, 1)
        sign[1::2] = -1.0
        self.delta = nn.Parameter(torch.randn(rows, h, 1) * 0.2)
        self.alpha = nn.Parameter(torch.randn(rows, h, 1) * 0.2)
        self.beta = nn.Parameter(torch.randn(rows, h, 1) * 0.02 + sign)
        self.gamma = nn.Parameter(torch.randn(rows, h))
        self.omega = nn.Parameter(torch.randn(d_model))

    def coefficients(self):
        p = torch.sigmoid(self.delta)
        q = 1.0 - p * torch.sigmoid(self.alpha)
        return p, q

    def kernel(self, length):
        taps = min(self.truncation, length) if self.truncation > 0 else length
        p, q = self.coefficients()
        vander = torch.arange(taps, dtype=p.dtype, device=p.device).view(1, 1, taps) * torch.log(q)
        terms = (p * self.beta) * torch.exp(vander)
        return torch.einsum("dnl,dn->dl", terms, self.gamma * self.scale)

    def moving_average(self, x, key_padding_mask=None, causal=False):
        xin = x.to(torch.float64 if x.dtype == torch.float64 else torch.float32)
        if key_padding_mask is not None:
            xin = xin.masked_fill(key_padding_mask.to(x.device).unsqueeze(-1), 0.0)
        xin = xin.transpose(1, 2)  # (B,D,T)
        t, d = xin.size(2), self.d_model
        k = self.kernel(t).to(xin.dtype)
        taps = k.size(1)
        if not self.bidirectional or causal:
            y = _fft_convolve(xin, k.narrow(0, 0, d), 2 * t, 0, t)
        else:
            k1, k2 = k.narrow(0, 0, d), k.narrow(0, d, d)
            both = F.pad(k1, (taps - 1, 0)) + F.pad(k2.flip(-1), (0, taps - 1))
            padded = F.pad(xin, (taps - 1, 0))
            n = 2 * (t + taps - 1)
            y = _fft_convolve(padded, both, n, 2 * taps - 2, t)
        return y.transpose(1, 2).to(x.dtype)

    def forward(self, x, key_padding_mask=None, causal=False):
        return F.silu(self.moving_average(x, key_padding_mask, causal) + x * self.omega)


class SimpleRelativePositionBias(nn.Module):
    def __init__(self, max_positions):
        super().__init__()
        self.max_positions = max_positions
        self.rel_pos_bias = nn.Parameter(torch.randn(2 * max_positions - 1) * 0.02)

    def forward(self, length):
        if not 1 <= length <= self.max_positions:
            raise ValueError(f"mega: sequence length {length} exceeds max_positions {self.max_positions}")
        pos = torch.arange(length, dtype=torch.long, device=self.rel_pos_bias.device)
        index = (self.max_positions - 1) + pos.view(1, length) - pos.view(length, 1)
        return self.rel_pos_bias.index_select(0, index.reshape(-1)).view(length, length)


class RotaryRelativePositionBias(nn.Module):
    def __init__(self, dim, max_positions):
        super().__init__()
        if dim <= 0 or dim % 2 != 0:
            raise ValueError(f"mega: rotary relative bias needs an even z_dim (got {dim})")
        self.dim, self.max_positions = dim, max_positions
        self.alpha = nn.Parameter(torch.randn(1, dim) * 0.02)
        self.beta = nn.Parameter(torch.randn(1, dim) * 0.02)

    def _rotate(self, v, length):
        half = self.dim // 2
        inv_freq = torch.exp(torch.arange(half, dtype=v.dtype, device=v.device) * (-math.log(10000.0) / float(half)))
        angle = torch.arange(length, dtype=v.dtype, device=v.device).view(length, 1) * inv_freq.view(1, half)
        sin, cos = torch.sin(angle), torch.cos(angle)
        x1, x2 = v.narrow(1, 0, half), v.narrow(1, half, half)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], 1)

    def forward(self, length):
        if not 1 <= length <= self.max_positions:
            raise ValueError(f"mega: sequence length {length} exceeds max_positions {self.max_positions}")
        return torch.matmul(self._rotate(self.alpha, length), self._rotate(self.beta, length).t())


def mega_laplace(x):
    mu = math.sqrt(0.5)
    sigma = math.sqrt(1.0 / (4.0 * 3.14159265358979323846))
    return 0.5 * (1.0 + torch.erf((x - mu) / (sigma * math.sqrt(2.0))))


def mega_relu2(x):
    return torch.relu(x).pow(2)


def _mega_linear(i, o):
    lin = nn.Linear(i, o)
    with torch.no_grad():
        lin.weight.normal_(0.0, 0.02)
        lin.bias.zero_()
    return lin


class MegaAttention(nn.Module):
    def __init__(self, d_model, z_dim=64, v_dim=0, ema_dim=16, bidirectional=True, truncation=0,
                 attention_fn="softmax", rel_pos="simple", max_positions=1024, chunk_size=-1, dropout=0.0,
                 attention_dropout=0.0, hidden_dropout=0.0, norm="layer", prenorm=True):
        super().__init__()
        if attention_fn not in ("softmax", "laplace", "relu2"):
            raise ValueError(f"mega: unknown attention_fn '{attention_fn}'")
        if rel_pos not in ("simple", "rotary"):
            raise ValueError(f"mega: unknown rel_pos '{rel_pos}'")
        if not (chunk_size == -1 or chunk_size > 0):
            raise ValueError(f"mega: chunk_size must be -1 (full attention) or positive, got {chunk_size}")
        d, z = d_model, z_dim
        self.d_model, self.z_dim = d, z
        self.v_dim = v_dim if v_dim > 0 else 2 * d
        self.attention_fn, self.max_positions, self.chunk_size = attention_fn, max_positions, chunk_size
        self.dropout_p, self.attention_dropout, self.hidden_dropout = dropout, attention_dropout, hidden_dropout
        self.prenorm = prenorm
        # Registration order as the C++ constructor (names are what matter for loading).
        self.norm = SequenceNorm(norm, d)
        self.move = MultiHeadEma(d, ema_dim, bidirectional, truncation)
        self.v_proj = _mega_linear(d, self.v_dim)
        self.mx_proj = _mega_linear(d, 2 * d + z + self.v_dim)
        self.h_proj = _mega_linear(self.v_dim, d)
        self.gamma = nn.Parameter(torch.randn(2, z) * 0.02)
        self.beta = nn.Parameter(torch.zeros(2, z))
        table = chunk_size if chunk_size > 0 else max_positions
        if rel_pos == "simple":
            self.rel_pos_bias = SimpleRelativePositionBias(table)
        else:
            self.rel_pos_bias = RotaryRelativePositionBias(z, table)

    def max_length(self):
        return (1 << 62) if self.chunk_size > 0 else self.max_positions

    def forward(self, x, key_padding_mask=None, causal=False):
        check_attention_call(x, key_padding_mask, self.d_model, "mega")
        t, d, z, vd = x.size(1), self.d_model, self.z_dim, self.v_dim
        if t > self.max_length():
            raise ValueError(f"mega: sequence length {t} exceeds max_positions {self.max_positions}")
        mask = key_padding_mask.to(x.device) if key_padding_mask is not None else None
        x_hat = self.norm(x, mask) if self.prenorm else x
        v = F.silu(self.v_proj(x_hat))
        mx = self.move(x_hat, mask, causal)
        mx = F.dropout(mx, self.dropout_p, self.training)
        base = self.mx_proj(mx)
        u = torch.sigmoid(base.narrow(-1, 0, d))
        zr = F.silu(base.narrow(-1, d, z + vd))
        zs = zr.narrow(-1, 0, z)
        r = zr.narrow(-1, z, vd)
        hx = base.narrow(-1, d + z + vd, d)
        qk = zs.unsqueeze(2) * self.gamma + self.beta
        q, k = qk.select(2, 0), qk.select(2, 1)
        attended = self._attend(q, k, v, mask, causal)
        h = F.silu(hx + self.h_proj(attended * r))
        h = F.dropout(h, self.dropout_p, self.training)
        out = x + u * (h - x)
        if not self.prenorm:
            out = self.norm(out, mask)
        return out, []

    def _attend(self, q, k, v, key_padding_mask, causal):
        b, t, z, vd = q.size(0), q.size(1), q.size(2), v.size(2)
        c = min(self.chunk_size, t) if self.chunk_size > 0 else t
        chunks = (t + c - 1) // c
        padded_t = chunks * c
        pad = padded_t - t
        mask = key_padding_mask

        def pad_time(y):
            return F.pad(y, (0, 0, 0, pad)) if pad > 0 else y

        if pad > 0:
            head = mask if mask is not None else torch.zeros(b, t, dtype=torch.bool, device=q.device)
            mask = torch.cat([head, torch.ones(b, pad, dtype=torch.bool, device=q.device)], 1)
        qc = pad_time(q).reshape(b * chunks, 1, c, z)
        kc = pad_time(k).reshape(b * chunks, 1, c, z)
        vc = pad_time(v).reshape(b * chunks, 1, c, vd)
        mask_c = mask.reshape(b * chunks, c) if mask is not None else None
        masked = attention_key_mask(mask_c, causal, c, c, q.device)
        bias = self.rel_pos_bias(c).to(q.dtype)
        softmax = self.attention_fn == "softmax"
        if softmax:
            scores = torch.matmul(qc / math.sqrt(z), kc.transpose(-2, -1)) + bias
        else:
            if masked is not None:
                visible = torch.logical_not(masked).sum(-1, keepdim=True).to(q.dtype).clamp_min(1.0)
            else:
                visible = torch.full([1], float(c), dtype=q.dtype, device=q.device)
            scores = torch.matmul(qc, kc.transpose(-2, -1)) / visible + bias
        if softmax:
            weights = masked_softmax(scores, masked)
        else:
            weights = mega_laplace(scores) if self.attention_fn == "laplace" else mega_relu2(scores)
            if masked is not None:
                weights = weights.masked_fill(masked, 0.0)
        weights = F.dropout(weights, self.attention_dropout, self.training)
        vc = F.dropout(vc, self.hidden_dropout, self.training)
        h = torch.matmul(weights, vc)
        return h.reshape(b, padded_t, vd).narrow(1, 0, t)


class NormalizedFFN(nn.Module):
    def __init__(self, d_model, hidden_dim=0, dropout=0.0, hidden_dropout=0.0, norm="layer", prenorm=True):
        super().__init__()
        hidden = hidden_dim if hidden_dim > 0 else 2 * d_model
        self.d_model, self.dropout, self.hidden_dropout, self.prenorm = d_model, dropout, hidden_dropout, prenorm
        self.norm = SequenceNorm(norm, d_model)
        self.fc1 = _mega_linear(d_model, hidden)
        self.fc2 = _mega_linear(hidden, d_model)

    def forward(self, x, key_padding_mask=None):
        mask = key_padding_mask.to(x.device) if key_padding_mask is not None else None
        inp = self.norm(x, mask) if self.prenorm else x
        hidden = F.silu(self.fc1(inp))
        hidden = F.dropout(hidden, self.hidden_dropout, self.training)
        update = F.dropout(self.fc2(hidden), self.dropout, self.training)
        out = x + update
        return out if self.prenorm else self.norm(out, mask)


# --------------------------------------------------------------------------------------------------
# Attention builder (tools/components/attention_components.cpp)

def _per_layer(section, key, layer):
    lst = section[key + "_per_layer"]
    if not lst:
        return int(section[key])
    if layer >= len(lst):
        raise ConfigError(f"{key}_per_layer has {len(lst)} entries but the model has more layers (layer {layer} needs one)")
    return int(lst[layer])


def attention_builder(section):
    """section: a resolved attention section -> fn(layer, d_model) -> module."""
    name = section["name"]

    def build(layer, d_model):
        if name == "mha":
            return MultiHeadAttention(d_model, int(section["heads"]), float(section["dropout"]), bool(section["bias"]))
        if name == "moh":
            return MixtureOfHeadsAttention(
                d_model, int(section["heads"]), _per_layer(section, "shared_heads", layer),
                _per_layer(section, "routed_topk", layer), section["router"], float(section["dropout"]),
                bool(section["bias"]), bool(section["skip_unselected"]), float(section["balance_weight"]))
        if name == "mega":
            return MegaAttention(
                d_model, int(section["z_dim"]), int(section["v_dim"]), int(section["ema_dim"]),
                bool(section["bidirectional"]), int(section["truncation"]), section["attention_fn"],
                section["rel_pos"], int(section["max_positions"]), int(section["chunk_size"]),
                float(section["dropout"]), float(section["attention_dropout"]), float(section["hidden_dropout"]),
                section["norm"], bool(section["prenorm"]))
        raise ConfigError(f"attention '{name}' has no PyTorch twin here")

    return build


# --------------------------------------------------------------------------------------------------
# Models. forward(inputs, padding_mask=None) -> (logits, aux_losses)

def sinusoidal_positions(length, d_model, dtype, device):
    t = torch.arange(length, dtype=dtype, device=device).unsqueeze(1)
    i = torch.arange(d_model, dtype=dtype, device=device)
    freq = torch.exp(torch.floor(i / 2) * 2 * (-math.log(10000.0) / d_model))
    angle = t * freq.unsqueeze(0)
    even = (torch.remainder(i, 2) == 0).unsqueeze(0)
    return torch.where(even, torch.sin(angle), torch.cos(angle))


def masked_mean(x, padding_mask):
    if padding_mask is None:
        return x.mean(1)
    keep = padding_mask.logical_not().to(x.dtype).unsqueeze(-1)
    count = keep.sum(1).clamp_min(1.0)
    return (x * keep).sum(1) / count


class EncoderBlock(nn.Module):
    """models/encoder_block.cpp: pre-norm, exact (erf) GELU."""

    def __init__(self, d_model, ff_dim, dropout, norm_eps, attn):
        super().__init__()
        self.attn = attn
        self.norm1 = nn.LayerNorm(d_model, eps=norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=norm_eps)
        self.ff_in = nn.Linear(d_model, ff_dim)
        self.ff_out = nn.Linear(ff_dim, d_model)
        self.attn_drop = nn.Dropout(dropout)
        self.ff_drop = nn.Dropout(dropout)
        self.ff_inner_drop = nn.Dropout(dropout)

    def forward(self, x, key_padding_mask, causal, aux):
        out, a = self.attn(self.norm1(x), key_padding_mask, causal)
        aux.extend(a)
        y = x + self.attn_drop(out)
        hidden = self.ff_inner_drop(F.gelu(self.ff_in(self.norm2(y))))
        return y + self.ff_drop(self.ff_out(hidden))


class EncoderClassifier(nn.Module):
    """models/encoder_classifier.cpp."""

    def __init__(self, cfg, spec, build_attention):
        super().__init__()
        d = int(cfg["d_model"])
        self.d_model = d
        self.tokens = int(spec["vocab_size"]) > 0
        self.cls = cfg["pooling"] == "cls"
        if cfg["pooling"] not in ("mean", "cls"):
            raise ConfigError(f"encoder_classifier: pooling must be 'mean' or 'cls' (got '{cfg['pooling']}')")
        self.max_length = int(spec["max_length"])
        self.feature_dim = int(spec.get("feature_dim", 0))
        self.learned_positions = bool(cfg["learned_positions"])
        if self.tokens:
            self.embed = nn.Embedding(int(spec["vocab_size"]), d, padding_idx=int(spec["pad_id"]))
        else:
            self.embed = nn.Linear(self.feature_dim, d)
        positions = self.max_length + (1 if self.cls else 0)
        if self.learned_positions:
            self.pos = nn.Embedding(positions, d)
        if self.cls:
            self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.embed_drop = nn.Dropout(float(cfg["dropout"]))
        ff = int(cfg["ff_dim"]) if int(cfg["ff_dim"]) > 0 else 4 * d
        self.blocks = nn.ModuleList(
            EncoderBlock(d, ff, float(cfg["dropout"]), float(cfg["norm_eps"]), build_attention(i, d))
            for i in range(int(cfg["layers"])))
        self.final_norm = nn.LayerNorm(d, eps=float(cfg["norm_eps"]))
        self.head = nn.Linear(d, int(spec["num_classes"]))

    def forward(self, inputs, padding_mask=None):
        h = self.embed(inputs)
        b, t = h.size(0), h.size(1)
        if t > self.max_length:
            raise ValueError(f"encoder_classifier: sequence length {t} exceeds max_length {self.max_length}")
        if self.cls:
            h = torch.cat([self.cls_token.expand(b, 1, self.d_model), h], 1)
        length = h.size(1)
        if self.learned_positions:
            h = h + self.pos.weight.narrow(0, 0, length).unsqueeze(0)
        else:
            h = h + sinusoidal_positions(length, self.d_model, h.dtype, h.device).unsqueeze(0)
        h = self.embed_drop(h)
        mask = padding_mask
        if mask is not None:
            mask = mask.to(h.device)
            if self.cls:
                mask = torch.cat([torch.zeros(b, 1, dtype=mask.dtype, device=mask.device), mask], 1)
        aux = []
        for block in self.blocks:
            h = block(h, mask, False, aux)
        h = self.final_norm(h)
        pooled = h.select(1, 0) if self.cls else masked_mean(h, mask)
        return self.head(pooled), aux


class MegaLayer(nn.Module):
    def __init__(self, attn, ffn):
        super().__init__()
        self.attn = attn
        self.ffn = ffn


class MegaEncoder(nn.Module):
    """models/mega_encoder.cpp."""

    def __init__(self, cfg, spec, build_attention):
        super().__init__()
        d = int(cfg["d_model"])
        self.dropout = float(cfg["dropout"])
        if int(spec["vocab_size"]) > 0:
            self.embed = nn.Embedding(int(spec["vocab_size"]), d, padding_idx=int(spec["pad_id"]))
        else:
            self.embed = nn.Linear(int(spec["feature_dim"]), d)
        layers = []
        for i in range(int(cfg["layers"])):
            attn = build_attention(i, d)
            if isinstance(attn, MegaAttention) and int(spec["max_length"]) > attn.max_length():
                raise ConfigError(f"mega: sequences of the data reach {spec['max_length']} tokens but "
                                  f"max_positions is {attn.max_length()}")
            ffn = NormalizedFFN(d, int(cfg["ffn_dim"]), self.dropout, float(cfg["hidden_dropout"]), cfg["norm"],
                                bool(cfg["prenorm"]))
            layers.append(MegaLayer(attn, ffn))
        self.layers = nn.ModuleList(layers)
        self.final_norm = SequenceNorm(cfg["norm"], d) if cfg["prenorm"] else None
        hidden = int(cfg["classifier_hidden"])
        if hidden > 0:
            self.classifier = nn.Linear(d, hidden)
            self.head = nn.Linear(hidden, int(spec["num_classes"]), bias=False)
        else:
            self.classifier = None
            self.head = nn.Linear(d, int(spec["num_classes"]))

    def forward(self, inputs, padding_mask=None):
        mask = padding_mask
        h = self.embed(inputs)
        h = F.dropout(h, self.dropout, self.training)
        aux = []
        for layer in self.layers:
            out, a = layer.attn(h, mask, False)
            aux.extend(a)
            h = layer.ffn(out, mask)
        if self.final_norm is not None:
            h = self.final_norm(h, mask)
        z = masked_mean(h, mask)
        if self.classifier is not None:
            z = F.gelu(F.dropout(self.classifier(z), self.dropout, self.training))
        return self.head(z), aux


class AdditivePooling(nn.Module):
    """attention/additive/additive_pooling.cpp (scores additive | dot | gated)."""

    def __init__(self, input_dim, attention_dim=128, score="additive"):
        super().__init__()
        self.input_dim, self.score = input_dim, score
        if score in ("additive", "gated"):
            self.w = nn.Linear(input_dim, attention_dim)
            if score == "gated":
                self.u = nn.Linear(input_dim, attention_dim)
            self.v = nn.Linear(attention_dim, 1, bias=False)
        elif score == "dot":
            self.v = nn.Linear(input_dim, 1, bias=False)
        else:
            raise ConfigError(f"attention pooling: score must be additive, dot or gated, not '{score}'")

    def scores(self, h):
        if self.score == "additive":
            return self.v(torch.tanh(self.w(h))).squeeze(-1)
        if self.score == "gated":
            return self.v(torch.tanh(self.w(h)) * torch.sigmoid(self.u(h))).squeeze(-1)
        return self.v(h).squeeze(-1) / math.sqrt(float(self.input_dim))

    def forward(self, h, key_padding_mask=None):
        b, t = h.size(0), h.size(1)
        s = self.scores(h).view(b, 1, 1, t)
        if key_padding_mask is not None:
            pad = key_padding_mask.view(b, 1, 1, t)
            weights = torch.softmax(s.masked_fill(pad, -math.inf), -1)
            weights = weights.masked_fill(pad, 0.0).nan_to_num(0.0)
        else:
            weights = torch.softmax(s, -1)
        a = weights.view(b, t)
        return torch.bmm(a.unsqueeze(1), h).squeeze(1), a


class BiLstmAttention(nn.Module):
    """models/bilstm_attention.cpp."""

    def __init__(self, cfg, spec):
        super().__init__()
        if int(spec["vocab_size"]) <= 0:
            raise ConfigError("bilstm_attention needs token inputs (a dataset with a vocabulary)")
        e, hid = int(cfg["embed_dim"]), int(cfg["hidden"])
        self.embed = nn.Embedding(int(spec["vocab_size"]), e, padding_idx=int(spec["pad_id"]))
        self.lstm = nn.LSTM(e, hid, batch_first=True, bidirectional=True)
        self.pool = AdditivePooling(2 * hid, int(cfg["attention_dim"]), cfg["score"])
        self.drop = nn.Dropout(float(cfg["dropout"]))
        self.head = nn.Linear(2 * hid, int(spec["num_classes"]))

    def forward(self, tokens, padding_mask=None):
        t = tokens.size(1)
        embedded = self.drop(self.embed(tokens))
        if padding_mask is not None:
            lengths = (~padding_mask).sum(1).clamp_min(1).to("cpu", torch.long)
        else:
            lengths = torch.full((tokens.size(0),), t, dtype=torch.long)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        encoded = self.lstm(packed)[0]
        h = nn.utils.rnn.pad_packed_sequence(encoded, batch_first=True, padding_value=0.0, total_length=t)[0]
        context, _ = self.pool(h, padding_mask)
        return self.head(self.drop(context)), []


def build_model(model_section, spec, fill_defaults=False):
    """model_section: the recipe's `model` (with `attention`); spec: {num_classes, vocab_size, ...}."""
    cfg = resolve_section(model_section, MODEL_SCHEMAS, "model", fill_defaults)
    name = cfg["name"]
    if name == "bilstm_attention":
        return BiLstmAttention(cfg, spec)
    att = resolve_section(cfg["attention"], ATTENTION_SCHEMAS, "model.attention", fill_defaults)
    build = attention_builder(att)
    if name == "encoder_classifier":
        return EncoderClassifier(cfg, spec, build)
    return MegaEncoder(cfg, spec, build)


def objective_total(logits, labels, aux_losses, label_smoothing=0.0):
    """Task cross-entropy + aux losses as framework/objective/objective.cpp: losses of the same name
    are averaged over the layers returning them, each weighted by its module's weight.
    Returns (total, task_loss)."""
    task = F.cross_entropy(logits, labels, label_smoothing=label_smoothing)
    total = task
    groups = {}
    order = []
    for name, value, weight in aux_losses:
        if name not in groups:
            groups[name] = [value * weight, 1]
            order.append(name)
        else:
            groups[name][0] = groups[name][0] + value * weight
            groups[name][1] += 1
    for name in order:
        weighted_sum, count = groups[name]
        total = total + weighted_sum / float(count)
    return total, task


# --------------------------------------------------------------------------------------------------
# safetensors in plain Python + numpy (framework/io/safetensors.h describes the format)

# name -> (numpy dtype of the stored bytes, torch dtype, writer sort rank as the reference's enum)
_ST_DTYPES = {
    "BOOL": ("u1", torch.bool, 0),
    "U8": ("u1", torch.uint8, 1),
    "I8": ("i1", torch.int8, 2),
    "I16": ("<i2", torch.int16, 5),
    "F16": ("<f2", torch.float16, 7),
    "BF16": ("<i2", torch.bfloat16, 8),  # raw 16-bit words, reinterpreted by torch
    "I32": ("<i4", torch.int32, 9),
    "F32": ("<f4", torch.float32, 11),
    "F64": ("<f8", torch.float64, 12),
    "I64": ("<i8", torch.int64, 13),
}
_ST_BY_TORCH = {v[1]: k for k, v in _ST_DTYPES.items()}


class SafetensorsError(ValueError):
    pass


def read_safetensors(path):
    """-> (dict name -> torch.Tensor (CPU, own memory), metadata dict). Validates the layout."""
    with open(path, "rb") as f:
        data = f.read()

    def fail(msg):
        raise SafetensorsError(f"{path}: not a valid safetensors file: {msg}")

    if len(data) < 8:
        fail(f"{len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        fail(f"header length {n} runs past the end of the file ({len(data)} bytes)")
    try:
        pairs = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=lambda kv: kv)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        fail(f"header is not JSON ({e})")
    if not isinstance(pairs, list):
        fail("header is not a JSON object")
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        fail("duplicate keys in the header")
    header = dict(pairs)
    buf = memoryview(data)[8 + n:]
    metadata = {}
    entries = []
    for name, entry in header.items():
        if name == "__metadata__":
            entry = dict(entry) if isinstance(entry, list) else entry
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                fail("__metadata__ must map names to strings")
            metadata = entry
            continue
        entry = dict(entry) if isinstance(entry, list) else entry
        if not isinstance(entry, dict) or not all(k in entry for k in ("dtype", "shape", "data_offsets")):
            fail(f"tensor '{name}': entry needs dtype, shape and data_offsets")
        dtype = entry["dtype"]
        if dtype not in _ST_DTYPES:
            fail(f"tensor '{name}': unknown dtype '{dtype}' (supported: {', '.join(_ST_DTYPES)})")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            fail(f"tensor '{name}': shape {shape!r} is not a list of non-negative integers")
        offs = entry["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) for o in offs)
                or offs[0] < 0 or offs[0] > offs[1]):
            fail(f"tensor '{name}': data_offsets {offs!r} is not [begin, end] with 0 <= begin <= end")
        np_dtype = np.dtype(_ST_DTYPES[dtype][0])
        need = int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize
        if offs[1] - offs[0] != need:
            fail(f"tensor '{name}': {offs[1] - offs[0]} bytes but shape {shape} of {dtype} needs {need}")
        if offs[1] > len(buf):
            fail(f"tensor '{name}': bytes [{offs[0]}, {offs[1]}) run past the buffer ({len(buf)} bytes)")
        entries.append((offs[0], offs[1], name, dtype, shape))
    entries.sort()
    pos = 0
    for begin, end, name, _, _ in entries:
        if begin != pos:
            fail(f"tensor '{name}' starts at {begin}: " + ("overlaps the previous tensor" if begin < pos else
                                                            f"bytes [{pos}, {begin}) belong to no tensor"))
        pos = end
    if pos != len(buf):
        fail(f"bytes [{pos}, {len(buf)}) of the buffer belong to no tensor")
    tensors = {}
    for begin, end, name, dtype, shape in entries:
        np_name, torch_dtype, _ = _ST_DTYPES[dtype]
        arr = np.frombuffer(buf[begin:end], dtype=np.dtype(np_name)).reshape(shape).copy()
        if dtype == "BOOL":
            if arr.size and arr.max() > 1:
                fail(f"tensor '{name}': BOOL bytes must be 0 or 1")
            t = torch.from_numpy(arr.astype(np.bool_))
        elif dtype == "BF16":
            t = torch.from_numpy(arr).view(torch.bfloat16)
        else:
            t = torch.from_numpy(arr)
        tensors[name] = t
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> torch.Tensor. Lays out as the reference writer (sorted by dtype rank,
    descending, then name; compact JSON; __metadata__ first; space padding to 8 bytes)."""
    items = []
    for name, t in tensors.items():
        if name == "__metadata__":
            raise SafetensorsError("a tensor may not be named __metadata__")
        t = t.detach().to("cpu").contiguous()
        if t.dtype not in _ST_BY_TORCH:
            raise SafetensorsError(f"tensor '{name}' has dtype {t.dtype}, which safetensors here does not store")
        items.append((name, _ST_BY_TORCH[t.dtype], t))
    items.sort(key=lambda it: (-_ST_DTYPES[it[1]][2], it[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, dtype, t in items:
        if dtype == "BF16":
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        elif dtype == "BOOL":
            raw = t.numpy().astype(np.uint8).tobytes()
        else:
            raw = t.numpy().astype(np.dtype(_ST_DTYPES[dtype][0]), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


class WeightsMismatch(ValueError):
    pass


def load_weights_strict(model, tensors, source="weights"):
    """Loads `tensors` (name -> tensor) into every parameter and persistent buffer of `model`,
    refusing missing names, unexpected names and shape mismatches with one message listing them."""
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    shapes = sorted(f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(own[k].shape)}"
                    for k in set(own) & set(tensors) if tuple(own[k].shape) != tuple(tensors[k].shape))
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing from {source} ({len(missing)}): " + ", ".join(missing))
        if unexpected:
            parts.append(f"unexpected in {source} ({len(unexpected)}): " + ", ".join(unexpected))
        if shapes:
            parts.append("shape mismatches: " + "; ".join(shapes))
        raise WeightsMismatch("the PyTorch model and the C++ weights differ -- " + " | ".join(parts))
    converted = {k: v.to(own[k].dtype) for k, v in tensors.items()}
    model.load_state_dict(converted, strict=True)
