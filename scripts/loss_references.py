#!/usr/bin/env python3
"""transformers' own next-token loss on each fixture sequence, for `bentov ... --loss`.

Every folder is loaded with AutoModelForCausalLM in float64 and eager attention. When that
needs no freshly initialized weight (the file has an output head, or the config ties it to the
embedding, as GPT-2 and OPT do even for their base models), each recorded sequence of
reference.json gets

    "loss": mean next-token cross-entropy in nats per token: what the *ForCausalLM `loss` with
            labels = input_ids means (n - 1 predictions), computed here in float64 from the
            float64 logits (transformers' own loss function casts logits to float32 first)

Folders whose head transformers would have to invent (untied base models, or a file that lacks
its head) get no "loss" and say so.

Usage (where torch and transformers are installed; the device machine):
    python3 scripts/loss_references.py tests/data/fixtures/* models/gpt2-demo:tests/data/demo/gpt2-demo ...
An argument MODEL:REFERENCE names a model folder whose reference lives elsewhere (the demo models).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM


def record_loss(model_dir, ref_dir):
    meta_path = os.path.join(ref_dir, "reference.json")
    with open(meta_path) as f:
        meta = json.load(f)
    for seq in meta["sequences"]:
        seq.pop("loss", None)
    meta.pop("loss_model_class", None)
    model, info = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float64, attn_implementation="eager",
                                                       output_loading_info=True)
    if info["missing_keys"]:
        print(f"{model_dir}: no output head in the file ({sorted(info['missing_keys'])} would be random): no loss",
              flush=True)
    else:
        model.eval()
        for seq in meta["sequences"]:
            ids = torch.tensor([seq["input_ids"]])
            if ids.shape[1] < 2:
                continue
            with torch.no_grad():
                logits = model(ids).logits[0].double()
            seq["loss"] = float(torch.nn.functional.cross_entropy(logits[:-1], ids[0, 1:]))
        meta["loss_model_class"] = type(model).__name__
        print(f"{ref_dir}: loss {[round(s.get('loss', float('nan')), 4) for s in meta['sequences']]}", flush=True)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)


def main():
    torch.set_grad_enabled(False)
    for arg in sys.argv[1:]:
        model_dir, _, ref_dir = arg.partition(":")
        record_loss(model_dir, ref_dir or model_dir)


if __name__ == "__main__":
    main()
