#!/usr/bin/env python3
"""How far transformers itself lands from its float64 reference when it runs in bfloat16.

bentov's `--dtype bf16` (GPU) may be no worse than 1.5 times this. For each fixture it loads the
saved folder with transformers in bfloat16 (eager attention, on a GPU when there is one), runs
every reference sequence, and compares with the float64 reference that scripts/make_fixtures.py
recorded: the attention probabilities (max abs) and the notebook's metrics computed from
transformers' bf16 attention (scripts/notebook_metrics.py) against the float64 ones (max abs for
locality, entropy and the per-head ones; max relative for the sheaf trace, and its error per
row and unit ||W_V||^2). Written into the fixture's reference.json:

    "transformers_bfloat16": {"attention_max_abs": M,
                              "metrics_max_abs": {"locality": .., "entropy": .., "head_locality": ..,
                                                  "head_entropy": .., "sheaf_trace_rel": ..,
                                                  "sheaf_trace_per_row": ..}}

Usage (where torch and transformers are installed):
    python3 scripts/bf16_floor.py tests/data/fixtures/* models/gpt2-demo:tests/data/demo/gpt2-demo ...
An argument MODEL:REFERENCE names a model folder whose reference lives elsewhere (the demo models).
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_metrics import notebook_layer_metrics  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def worst(errors, key, got, want, relative=False):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = np.abs(got - want)
    if relative:
        diff = diff / np.maximum(np.abs(want), 1e-300)
    errors[key] = max(errors.get(key, 0.0), float(diff.max()))


def floor_for(model_dir, ref_dir):
    ref = load_file(os.path.join(ref_dir, "reference.safetensors"))
    meta_path = os.path.join(ref_dir, "reference.json")
    with open(meta_path) as f:
        meta = json.load(f)
    model = AutoModel.from_pretrained(model_dir, dtype=torch.bfloat16, attn_implementation="eager").to(DEVICE)
    model.eval()
    attention_max, metrics = 0.0, {}
    for k, seq in enumerate(meta["sequences"]):
        ids = ref[f"seq{k}.input_ids"].tolist()
        with torch.no_grad():
            out = model(torch.tensor([ids], device=DEVICE), output_attentions=True)
        attentions = [a[0].double().cpu().numpy() for a in out.attentions]
        for layer, a in enumerate(attentions):
            want = ref[f"seq{k}.blocks.{layer}.attn.pattern"]
            attention_max = max(attention_max, float(np.abs(a - want).max()))
        nb = seq.get("notebook")
        if nb is None or len(ids) < 2:
            continue
        got = notebook_layer_metrics(attentions, meta["value_frob_sq"])
        for key in ("locality", "entropy", "head_locality", "head_entropy"):
            worst(metrics, key, got[key], nb[key])
        worst(metrics, "sheaf_trace_rel", got["sheaf_trace"], nb["sheaf_trace"], relative=True)
        # The sheaf trace is the off-diagonal mass times ||W_V||^2: its error per row and unit norm.
        per_row = [abs(g - w) / (f * len(ids)) for g, w, f in zip(got["sheaf_trace"], nb["sheaf_trace"], meta["value_frob_sq"])]
        metrics["sheaf_trace_per_row"] = max(metrics.get("sheaf_trace_per_row", 0.0), max(per_row))
    meta["transformers_bfloat16"] = {"attention_max_abs": attention_max, "metrics_max_abs": metrics}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{ref_dir}: transformers bf16 vs float64: attention max abs {attention_max:.3g}, "
          + ", ".join(f"{k} {v:.3g}" for k, v in metrics.items()), flush=True)


def main():
    torch.set_grad_enabled(False)
    for arg in sys.argv[1:]:
        model_dir, _, ref_dir = arg.partition(":")
        floor_for(model_dir, ref_dir or model_dir)


if __name__ == "__main__":
    main()
