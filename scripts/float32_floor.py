#!/usr/bin/env python3
"""How close transformers itself comes to its float64 reference when it runs in float32.

bentov computes in float32 (as transformers does by default) and is compared with references
that transformers recorded in float64 (scripts/make_fixtures.py). With peaked random weights the
float32 rounding alone moves attention probabilities by about 1e-5 at 100 tokens; this script
measures that floor for transformers' own float32 eager forward, on the very files and inputs of
each fixture, and writes it into the fixture's reference.json:

    "transformers_float32": {"attention_max_abs": M, "per_sequence": [m0, m1, ...]}

Usage (where torch and transformers are installed):
    python3 scripts/float32_floor.py tests/data/fixtures/* models/gpt2-demo:tests/data/demo/gpt2-demo ...
An argument MODEL:REFERENCE names a model folder whose reference lives elsewhere (the demo models).
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoModel


def floor_for(model_dir, ref_dir):
    ref = load_file(os.path.join(ref_dir, "reference.safetensors"))
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    per_seq = []
    k = 0
    while f"seq{k}.input_ids" in ref:
        ids = ref[f"seq{k}.input_ids"].tolist()
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_attentions=True)
        worst = 0.0
        for layer, a in enumerate(out.attentions):
            want = ref[f"seq{k}.blocks.{layer}.attn.pattern"]
            worst = max(worst, float(np.abs(a[0].double().numpy() - want).max()))
        per_seq.append(worst)
        k += 1
    meta_path = os.path.join(ref_dir, "reference.json")
    with open(meta_path) as f:
        meta = json.load(f)
    meta["transformers_float32"] = {"attention_max_abs": max(per_seq), "per_sequence": per_seq}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{ref_dir}: transformers float32 vs float64 attention max abs {max(per_seq):.3g}", flush=True)


def main():
    torch.set_grad_enabled(False)
    for arg in sys.argv[1:]:
        model_dir, _, ref_dir = arg.partition(":")
        floor_for(model_dir, ref_dir or model_dir)


if __name__ == "__main__":
    main()
