#!/usr/bin/env python3
"""transformers' own next-token loss on each fixture sequence, for `bentov ... --loss`.

For every folder whose config names a *ForCausalLM / *LMHeadModel architecture (a checkpoint
with an output head, tied or not), the model is loaded with AutoModelForCausalLM in float64
and eager attention, and each recorded sequence of reference.json gets

    "loss": mean next-token cross-entropy in nats per token (the `loss` of the model's output
            with labels = input_ids: n - 1 predictions), float64

Folders of base models (no head in the file) are skipped and say so.

Usage (where torch and transformers are installed; the device machine):
    python3 scripts/loss_references.py tests/data/fixtures/* models/gpt2-demo:tests/data/demo/gpt2-demo ...
An argument MODEL:REFERENCE names a model folder whose reference lives elsewhere (the demo models).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM


def has_output_head(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        archs = json.load(f).get("architectures") or []
    return any(a.endswith("ForCausalLM") or a.endswith("LMHeadModel") for a in archs)


def record_loss(model_dir, ref_dir):
    if not has_output_head(model_dir):
        print(f"{model_dir}: base model, no output head: skipped", flush=True)
        return
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64, attn_implementation="eager")
    model.eval()
    meta_path = os.path.join(ref_dir, "reference.json")
    with open(meta_path) as f:
        meta = json.load(f)
    for seq in meta["sequences"]:
        ids = torch.tensor([seq["input_ids"]])
        if ids.shape[1] < 2:
            continue
        with torch.no_grad():
            seq["loss"] = float(model(ids, labels=ids).loss)
    meta["loss_model_class"] = type(model).__name__
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{ref_dir}: loss {[round(s.get('loss', float('nan')), 4) for s in meta['sequences']]}", flush=True)


def main():
    torch.set_grad_enabled(False)
    for arg in sys.argv[1:]:
        model_dir, _, ref_dir = arg.partition(":")
        record_loss(model_dir, ref_dir or model_dir)


if __name__ == "__main__":
    main()
