#!/usr/bin/env python3
"""How much a bf16 metric error depends on where the roundings fall, on a Llama-shaped fixture.

bentov's `--dtype bf16` is held to 1.5 times transformers' own bf16 error (scripts/bf16_floor.py).
On the project's tiny random-weight fixtures one rounding of the residual stream's norm already
moves attention probabilities by 0.1 or more, so the error depends on *which* values get rounded,
not only on how many. This script replays a Llama forward in float64 with bf16 rounding at chosen
points, and reports the worst metric error over the fixture's sequences, as a fraction of the
bound the GPU test applies, for:
  - bentov's own rounding points (the weights, and the products' 16-bit inputs: the norm output, q/k/v after the
    rotary, P before P V, the attention output, the activation), and
  - the 32 placements that add any of five roundings an equally valid bf16 implementation makes
    (transformers' norm rounded twice, q/k/v before the rotary, cos/sin, the residual stream,
    the probabilities).
The spread of those 32 figures is the noise the 1.5x bound sits in.

Usage (needs torch, safetensors, numpy): python3 scripts/bf16_rounding_study.py tests/data/fixtures/llama-gqa-bf16
"""
import itertools
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_metrics import notebook_layer_metrics  # noqa: E402

F64 = torch.float64
BENTOV = frozenset({"norm", "qkv", "pv_p", "ctx", "act"})
EXTRAS = ("norm_twice", "qkv_before_rotary", "cos_sin", "residual", "probabilities")


def to_bf16(x):
    return x.to(torch.bfloat16).to(F64)


class LlamaReplay:
    """A float64 Llama forward (default rotary, no biases) from a fixture folder."""

    def __init__(self, folder):
        self.cfg = json.load(open(os.path.join(folder, "config.json")))
        if self.cfg.get("model_type") != "llama" or self.cfg.get("rope_parameters", {}).get("rope_type", "default") != "default":
            raise SystemExit(f"{folder}: this study replays plain Llama checkpoints only")
        self.meta = json.load(open(os.path.join(folder, "reference.json")))
        self.w = {k.removeprefix("model."): v.to(F64) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}

    def attentions(self, ids, rounding):
        """Every layer's (heads, n, n) probabilities with bf16 rounding at the named points."""
        c = self.cfg
        # Any bf16 run reads the weights in bf16 (exact for a bf16 checkpoint).
        w = {k: to_bf16(v) for k, v in self.w.items()} if rounding else self.w
        heads, kv_heads, dh = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        eps, theta = c["rms_norm_eps"], c["rope_parameters"]["rope_theta"]
        at = lambda point, x: to_bf16(x) if point in rounding else x  # noqa: E731
        n = len(ids)
        inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2).float() / dh))  # float32, as transformers
        angles = torch.outer(torch.arange(n).float(), inv_freq)
        angles = torch.cat([angles, angles], -1)
        cos, sin = at("cos_sin", angles.cos().to(F64)), at("cos_sin", angles.sin().to(F64))

        def norm(x, weight):
            unit = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
            if "norm_twice" in rounding:
                return to_bf16(weight * to_bf16(unit))
            return at("norm", unit * weight)

        def rotate(x):
            return x * cos + torch.cat([-x[..., dh // 2:], x[..., : dh // 2]], -1) * sin

        h = w["embed_tokens.weight"][ids]
        out = []
        for layer in range(c["num_hidden_layers"]):
            p = f"layers.{layer}."
            x = norm(h, w[p + "input_layernorm.weight"])
            q, k, v = ((x @ w[p + f"self_attn.{m}_proj.weight"].T).view(n, -1, dh).transpose(0, 1) for m in "qkv")
            if "qkv_before_rotary" in rounding:
                q, k, v = to_bf16(q), to_bf16(k), to_bf16(v)
            q, k, v = at("qkv", rotate(q)), at("qkv", rotate(k)), at("qkv", v)
            k, v = k.repeat_interleave(heads // kv_heads, 0), v.repeat_interleave(heads // kv_heads, 0)
            scores = (q @ k.transpose(1, 2)) * dh**-0.5 + torch.triu(torch.full((n, n), float("-inf"), dtype=F64), 1)
            a = torch.softmax(scores, -1)
            out.append(at("probabilities", a).numpy())
            ctx = at("ctx", (at("pv_p", a) @ v).transpose(0, 1).reshape(n, heads * dh))
            h = at("residual", h + ctx @ w[p + "self_attn.o_proj.weight"].T)
            x = norm(h, w[p + "post_attention_layernorm.weight"])
            gate, up = x @ w[p + "mlp.gate_proj.weight"].T, x @ w[p + "mlp.up_proj.weight"].T
            h = at("residual", h + at("act", torch.nn.functional.silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T)
        return out

    def worst_over_bound(self, rounding):
        """max over sequences and metrics of |error| / (1.5 x transformers' bf16 error), as the GPU test."""
        floor = self.meta["transformers_bfloat16"]["metrics_max_abs"]
        worst = 0.0
        for seq in self.meta["sequences"]:
            nb, ids = seq.get("notebook"), seq["input_ids"]
            if nb is None or len(ids) < 2:
                continue
            got = notebook_layer_metrics(self.attentions(ids, rounding), self.meta["value_frob_sq"])
            for kind in ("locality", "entropy"):
                bound = 1.5 * max(floor[kind], floor["head_" + kind])
                for key in (kind, "head_" + kind):
                    worst = max(worst, float(np.abs(np.asarray(got[key]) - np.asarray(nb[key])).max()) / bound)
        return worst


def main():
    torch.set_grad_enabled(False)
    for folder in sys.argv[1:]:
        replay = LlamaReplay(folder)
        exact = replay.worst_over_bound(frozenset())
        own = replay.worst_over_bound(BENTOV)
        placements = []
        for bits in itertools.product([False, True], repeat=len(EXTRAS)):
            extra = {x for b, x in zip(bits, EXTRAS) if b}
            placements.append(replay.worst_over_bound(frozenset(BENTOV | extra) - ({"norm"} if "norm_twice" in extra else set())))
        placements = np.array(placements)
        print(f"{folder}: worst error / bound: no rounding {exact:.2g}, bentov's points {own:.2f}; "
              f"{len(placements)} placements: min {placements.min():.2f}, median {np.median(placements):.2f}, "
              f"max {placements.max():.2f}, over the bound {int((placements > 1).sum())}")


if __name__ == "__main__":
    main()
