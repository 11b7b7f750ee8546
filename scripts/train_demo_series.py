#!/usr/bin/env python3
"""A small checkpoint series for `bentov sweep --corpus --loss` and `bentov compare --corpus`:
one tiny Pythia-style model saved at several steps of its training, plus a fine-tuned copy.

    tests/data/series/step{K}/        GPTNeoXForCausalLM after K optimizer steps on Tiny Shakespeare
    tests/data/series/step{last}-alice/  the last checkpoint fine-tuned on Alice in Wonderland

The model uses the demo Pythia tokenizer (models/pythia-demo/tokenizer.json, vocabulary 4096),
which the tests put beside the weights; it is kept small (hidden 32, 4 layers, tied embeddings,
float16) so the series stays under 2 MB. After saving, every folder is reloaded with
AutoModelForCausalLM in float64 with eager attention, and `series_reference.json` records, for
each non-blank line of tests/data/corpus/sentences.txt: the ids AutoTokenizer gives it, the
next-token loss from the float64 logits, and the notebook's metrics of transformers' attention
(scripts/notebook_metrics.py). Those are what the tests compare bentov with.

Usage (on the device machine: torch, transformers, a GPU):
    python3 scripts/train_demo_series.py --corpus .shared/data/corpus/tinyshakespeare.txt \\
        --finetune .shared/data/corpus/alice29.txt --out tests/data/series
"""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from transformers import AutoModelForCausalLM, AutoModel, AutoTokenizer, GPTNeoXConfig, GPTNeoXForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import value_frob_sq  # noqa: E402  (||W_V||^2 per layer, as the fixtures record it)
from notebook_metrics import notebook_layer_metrics  # noqa: E402

ROOT = os.path.dirname(HERE)
TOKENIZER_DIR = os.path.join(ROOT, "models", "pythia-demo")
SENTENCES = os.path.join(ROOT, "tests", "data", "corpus", "sentences.txt")
SEQ, BATCH = 128, 32


def config():
    return GPTNeoXConfig(vocab_size=4096, hidden_size=32, num_hidden_layers=4, num_attention_heads=4,
                         intermediate_size=128, hidden_act="gelu", max_position_embeddings=256,
                         attention_dropout=0.0, hidden_dropout=0.0, tie_word_embeddings=True,
                         use_parallel_residual=True, bos_token_id=0, eos_token_id=0,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25})


def encode(tok, path):
    with open(path, encoding="utf-8") as f:
        return torch.tensor(tok(f.read())["input_ids"], dtype=torch.long)


def train(model, ids, steps, lr, seed, device, start=0):
    """AdamW on random windows of `ids`, cosine schedule; yields (step, model) after each step."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    ids = ids.to(device)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        starts = torch.randint(0, ids.numel() - SEQ, (BATCH,), generator=gen)
        x = torch.stack([ids[s:s + SEQ] for s in starts.tolist()])
        logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        yield start + step + 1, float(loss)


def save(model, folder):
    shutil.rmtree(folder, ignore_errors=True)
    model.to(torch.float16).save_pretrained(folder)
    model.to(torch.float32)
    with open(os.path.join(folder, "tokenizer.source"), "w") as f:
        f.write("models/pythia-demo\n")


def record_reference(folder, tok_dir):
    """series_reference.json: per sentence, AutoTokenizer's ids, the float64 loss, the notebook metrics."""
    tok = AutoTokenizer.from_pretrained(tok_dir)
    lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float64, attn_implementation="eager").eval()
    base = AutoModel.from_pretrained(folder, dtype=torch.float64, attn_implementation="eager").eval()
    frob = value_frob_sq(base)
    texts = []
    with open(SENTENCES, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            text = line.rstrip("\n")
            if not text.strip():
                continue
            ids = tok(text)["input_ids"]
            if len(ids) < 2:
                continue
            x = torch.tensor([ids])
            with torch.no_grad():
                logits = lm(x).logits[0]
                atts = [a[0].numpy() for a in base(x, output_attentions=True).attentions]
            loss = float(F.cross_entropy(logits[:-1], x[0, 1:]))
            texts.append({"line": line_no, "text": text, "input_ids": ids, "loss": loss,
                          "notebook": notebook_layer_metrics(atts, frob)})
    meta = {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
            "corpus": "tests/data/corpus/sentences.txt", "value_frob_sq": frob, "texts": texts}
    with open(os.path.join(folder, "series_reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
    mean = sum(t["loss"] for t in texts) / len(texts)
    print(f"  {folder}: {len(texts)} texts, mean loss {mean:.4f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--finetune", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", default="60,300,1500", help="checkpoints to save (optimizer steps)")
    ap.add_argument("--finetune-steps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(args.seed)
    tok = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    ids = encode(tok, args.corpus)
    keep = sorted(int(s) for s in args.steps.split(","))
    model = GPTNeoXForCausalLM(config()).to(device)
    os.makedirs(args.out, exist_ok=True)
    folders = []
    for step, loss in train(model, ids, keep[-1], 3e-3, args.seed, device):
        if step in keep:
            folder = os.path.join(args.out, f"step{step}")
            save(model, folder)
            folders.append(folder)
            print(f"step {step}: train loss {loss:.4f} -> {folder}", flush=True)
    alice = encode(tok, args.finetune)
    for step, loss in train(model, alice, args.finetune_steps, 1e-3, args.seed + 1, device, start=keep[-1]):
        pass
    folder = os.path.join(args.out, f"step{keep[-1]}-alice")
    save(model, folder)
    folders.append(folder)
    print(f"fine-tuned {args.finetune_steps} steps on {os.path.basename(args.finetune)}: train loss {loss:.4f}", flush=True)
    torch.set_grad_enabled(False)
    for folder in folders:
        record_reference(folder, TOKENIZER_DIR)


if __name__ == "__main__":
    main()
