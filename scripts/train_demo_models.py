#!/usr/bin/env python3
"""Train bentov's three demo models: small GPT-2, Pythia (GPT-NeoX) and OPT checkpoints.

Each model is a real Hugging Face checkpoint of its family, trained by this script on
tinyshakespeare (first 90% of the characters for training, last 10% held out for validation)
with its own byte-level BPE tokenizer (vocabulary 4096, trained on the training split only)
saved in the family's native tokenizer format:

  gpt2-demo    GPT2LMHeadModel, tied embeddings, gelu_new      vocab.json + merges.txt (GPT-2 order,
                                                               <|endoftext|> last)
  pythia-demo  GPTNeoXForCausalLM, Pythia configuration        tokenizer.json (NFC, ByteLevel,
               (partial rotary 0.25, parallel residual,        <|endoftext|> = 0, <|padding|> = 1)
               untied embeddings, exact gelu)
  opt-demo     OPTForCausalLM, pre-LN, ReLU, tied embeddings   vocab.json (fairseq order <s> <pad> </s>
                                                               <unk>) + merges.txt, add_bos_token

After training the script reloads every folder with AutoModelForCausalLM / AutoTokenizer,
re-tokenizes the validation text, reproduces the validation loss (within 1%), compares it
with a unigram baseline (the model's perplexity must be at least 2x lower), measures the
per-layer attention locality with eager attention (it must vary by >= 0.05 across layers),
checks the file formats and sizes, and writes models/<name>/TRAINING.md. Any failed check
makes it exit non-zero.

Usage (on a GPU machine with torch, transformers >= 5, tokenizers, safetensors, numpy):
  python3 scripts/train_demo_models.py --corpus PATH/tinyshakespeare.txt --out models \
      [--seed 0] [--steps N]

The committed models/ were made on one H200 with
  python3 scripts/train_demo_models.py --corpus .shared/data/corpus/tinyshakespeare.txt --out models \
      --seed 0 --steps 1200 --dropout 0.2
(about 40 s of training per model; each folder's TRAINING.md records its run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import sys
import time
import traceback

import numpy as np
import torch
import torch.nn.functional as F
import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    GPTNeoXConfig,
    GPTNeoXForCausalLM,
    OPTConfig,
    OPTForCausalLM,
)

VOCAB = 4096
SEQ = 256  # training context (model inputs per sequence)
MAX_POS = 512  # max_position_embeddings
HIDDEN = 128
LAYERS = 8
HEADS = 4
FFN = 512
MAX_MODEL_BYTES = 8_000_000
MAX_TOTAL_BYTES = 20_000_000
LOCALITY_TEXTS = 4
LOCALITY_TOKENS = 128
MIN_LOCALITY_RANGE = 0.05
MIN_UNIGRAM_FACTOR = 2.0
MAX_RELOAD_REL_DIFF = 0.01


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class CheckFailed(Exception):
    pass


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)
    log(f"  ok: {msg}")


# --------------------------------------------------------------------------------------------
# Tokenizers
# --------------------------------------------------------------------------------------------

def train_bpe(text: str, vocab_size: int, special_tokens: list[str], nfc: bool) -> Tokenizer:
    """Byte-level BPE trained on `text` (one string, so the statistics are those of encoding it)."""
    tok = Tokenizer(models.BPE())
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([text], trainer=trainer)
    return tok


def vocab_and_merges(tok: Tokenizer) -> tuple[dict[str, int], list[tuple[str, str]]]:
    state = json.loads(tok.to_str())
    vocab = dict(state["model"]["vocab"])
    merges = []
    for m in state["model"]["merges"]:
        pair = tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
        assert len(pair) == 2, m
        merges.append(pair)
    return vocab, merges


def write_vocab_merges(out_dir: str, vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    ordered = dict(sorted(vocab.items(), key=lambda kv: kv[1]))
    ids = list(ordered.values())
    assert ids == list(range(len(ids))), "vocabulary ids must be 0..n-1"
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(ordered, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            assert " " not in a and " " not in b
            f.write(f"{a} {b}\n")


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def build_gpt2_tokenizer(train_text: str, out_dir: str) -> Tokenizer:
    # GPT-2 order: the BPE tokens first, <|endoftext|> as the last id.
    tok = train_bpe(train_text, VOCAB - 1, [], nfc=False)
    vocab, merges = vocab_and_merges(tok)
    assert len(vocab) == VOCAB - 1, len(vocab)
    tok.add_special_tokens(["<|endoftext|>"])
    assert tok.token_to_id("<|endoftext|>") == VOCAB - 1
    vocab["<|endoftext|>"] = VOCAB - 1
    write_vocab_merges(out_dir, vocab, merges)
    write_json(
        os.path.join(out_dir, "tokenizer_config.json"),
        {
            "add_prefix_space": False,
            "bos_token": "<|endoftext|>",
            "eos_token": "<|endoftext|>",
            "unk_token": "<|endoftext|>",
            "errors": "replace",
            "model_max_length": MAX_POS,
            "tokenizer_class": "GPT2Tokenizer",
        },
    )
    return tok


def build_pythia_tokenizer(train_text: str, out_dir: str) -> Tokenizer:
    # GPT-NeoX-20B layout: NFC normalizer, ByteLevel pre-tokenizer / post-processor / decoder,
    # <|endoftext|> = 0 and <|padding|> = 1 as special added tokens, one tokenizer.json.
    tok = train_bpe(train_text, VOCAB, ["<|endoftext|>", "<|padding|>"], nfc=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    assert tok.token_to_id("<|endoftext|>") == 0 and tok.token_to_id("<|padding|>") == 1
    assert tok.get_vocab_size() == VOCAB
    state = json.loads(tok.to_str())
    # Pythia's file writes merges as "a b" strings (the format older tokenizers versions wrote).
    state["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in state["model"]["merges"]]
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(state, f, ensure_ascii=False, indent=2)
        f.write("\n")
    write_json(
        os.path.join(out_dir, "tokenizer_config.json"),
        {
            "add_prefix_space": False,
            "bos_token": "<|endoftext|>",
            "eos_token": "<|endoftext|>",
            "unk_token": "<|endoftext|>",
            "model_max_length": MAX_POS,
            "tokenizer_class": "GPTNeoXTokenizer",
        },
    )
    write_json(
        os.path.join(out_dir, "special_tokens_map.json"),
        {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
    )
    # The file as written must load as it is, with the same encoding.
    reread = Tokenizer.from_file(os.path.join(out_dir, "tokenizer.json"))
    probe = train_text[:5000]
    assert reread.encode(probe).ids == tok.encode(probe).ids
    return tok


def build_opt_tokenizer(train_text: str, out_dir: str) -> Tokenizer:
    # fairseq order: <s>=0 <pad>=1 </s>=2 <unk>=3, then the BPE tokens; every text starts with </s>.
    tok = train_bpe(train_text, VOCAB, ["<s>", "<pad>", "</s>", "<unk>"], nfc=False)
    vocab, merges = vocab_and_merges(tok)
    assert [vocab["<s>"], vocab["<pad>"], vocab["</s>"], vocab["<unk>"]] == [0, 1, 2, 3]
    assert len(vocab) == VOCAB, len(vocab)
    write_vocab_merges(out_dir, vocab, merges)
    write_json(
        os.path.join(out_dir, "tokenizer_config.json"),
        {
            "add_bos_token": True,
            "add_prefix_space": False,
            "bos_token": "</s>",
            "eos_token": "</s>",
            "unk_token": "</s>",
            "pad_token": "<pad>",
            "errors": "replace",
            "model_max_length": MAX_POS,
            "tokenizer_class": "GPT2Tokenizer",
        },
    )
    write_json(
        os.path.join(out_dir, "special_tokens_map.json"),
        {"bos_token": "</s>", "eos_token": "</s>", "unk_token": "</s>", "pad_token": "<pad>"},
    )
    return tok


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

def make_config(family: str, dropout: float):
    if family == "gpt2":
        return GPT2Config(
            vocab_size=VOCAB,
            n_positions=MAX_POS,
            n_embd=HIDDEN,
            n_layer=LAYERS,
            n_head=HEADS,
            n_inner=FFN,
            activation_function="gelu_new",
            resid_pdrop=dropout,
            embd_pdrop=dropout,
            attn_pdrop=0.0,
            layer_norm_epsilon=1e-5,
            initializer_range=0.02,
            bos_token_id=VOCAB - 1,
            eos_token_id=VOCAB - 1,
            tie_word_embeddings=True,
        )
    if family == "pythia":
        return GPTNeoXConfig(
            vocab_size=VOCAB,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            num_attention_heads=HEADS,
            intermediate_size=FFN,
            hidden_act="gelu",
            attention_dropout=0.0,
            hidden_dropout=dropout,
            max_position_embeddings=MAX_POS,
            initializer_range=0.02,
            layer_norm_eps=1e-5,
            bos_token_id=0,
            eos_token_id=0,
            tie_word_embeddings=False,
            use_parallel_residual=True,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25},
            attention_bias=True,
        )
    if family == "opt":
        return OPTConfig(
            vocab_size=VOCAB,
            hidden_size=HIDDEN,
            num_hidden_layers=LAYERS,
            ffn_dim=FFN,
            num_attention_heads=HEADS,
            max_position_embeddings=MAX_POS,
            do_layer_norm_before=True,
            word_embed_proj_dim=HIDDEN,
            dropout=dropout,
            attention_dropout=0.0,
            activation_function="relu",
            init_std=0.02,
            pad_token_id=1,
            bos_token_id=2,
            eos_token_id=2,
            enable_bias=True,
            tie_word_embeddings=True,
        )
    raise ValueError(family)


MODEL_CLASSES = {"gpt2": GPT2LMHeadModel, "pythia": GPTNeoXForCausalLM, "opt": OPTForCausalLM}
NAMES = {"gpt2": "gpt2-demo", "pythia": "pythia-demo", "opt": "opt-demo"}


def check_architecture(family: str, model) -> None:
    cfg = model.config
    if family == "pythia":
        rp = getattr(cfg, "rope_parameters", None) or {}
        factor = rp.get("partial_rotary_factor", getattr(cfg, "rotary_pct", None))
        check(abs(float(factor) - 0.25) < 1e-9, f"pythia partial_rotary_factor = {factor}")
        check(cfg.use_parallel_residual is True, "pythia use_parallel_residual")
        check(cfg.tie_word_embeddings is False, "pythia untied embeddings")
        check(model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr(),
              "pythia embed_out is a separate tensor")
        check(cfg.hidden_act == "gelu", "pythia exact gelu")
    elif family == "gpt2":
        check(model.get_output_embeddings().weight.data_ptr() == model.get_input_embeddings().weight.data_ptr(),
              "gpt2 lm_head tied to wte")
    elif family == "opt":
        check(cfg.do_layer_norm_before is True and cfg.activation_function == "relu", "opt pre-LN, relu")
        check(cfg.word_embed_proj_dim == cfg.hidden_size, "opt has no project_in/out")


# --------------------------------------------------------------------------------------------
# Data, evaluation
# --------------------------------------------------------------------------------------------

def eval_windows(val_ids: list[int], bos: int | None) -> list[list[int]]:
    """Non-overlapping evaluation windows of at most SEQ inputs.

    Without BOS: windows start every SEQ-1 tokens and overlap by one token, so every token but
    the first is predicted exactly once. With BOS (OPT): each window is [BOS] + SEQ-1 tokens, so
    every token is predicted exactly once, the first of each window from BOS alone.
    """
    step = SEQ - 1
    out = []
    if bos is None:
        s = 0
        while s < len(val_ids) - 1:
            out.append(val_ids[s : s + SEQ])
            s += step
    else:
        s = 0
        while s < len(val_ids):
            out.append([bos] + val_ids[s : s + step])
            s += step
    return out


@torch.no_grad()
def eval_loss(model, windows: list[list[int]], device, autocast: bool) -> tuple[float, int]:
    """Mean next-token cross-entropy (nats) over all predicted tokens, and their count."""
    model.eval()
    total, count = 0.0, 0
    by_len: dict[int, list[list[int]]] = {}
    for w in windows:
        by_len.setdefault(len(w), []).append(w)
    for n, ws in sorted(by_len.items()):
        if n < 2:
            continue
        for i in range(0, len(ws), 64):
            x = torch.tensor(ws[i : i + 64], dtype=torch.long, device=device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                logits = model(input_ids=x).logits
            lp = F.log_softmax(logits[:, :-1].float(), dim=-1)
            nll = -lp.gather(-1, x[:, 1:, None]).squeeze(-1)
            total += nll.double().sum().item()
            count += nll.numel()
    return total / count, count


def unigram_nll(train_ids: np.ndarray, targets: np.ndarray, vocab_size: int) -> float:
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64)
    logp = np.log(counts + 1.0) - math.log(counts.sum() + vocab_size)
    return float(-logp[targets].mean())


def window_targets(windows: list[list[int]]) -> np.ndarray:
    return np.array([t for w in windows for t in w[1:]], dtype=np.int64)


def locality_texts(val_text: str) -> list[str]:
    texts = []
    for k in range(LOCALITY_TEXTS):
        pos = int(len(val_text) * (0.1 + 0.8 * k / max(1, LOCALITY_TEXTS - 1)))
        start = val_text.find("\n\n", pos)
        start = pos if start < 0 else start + 2
        texts.append(val_text[start : start + 1000])
    return texts


@torch.no_grad()
def layer_localities(model, tok, texts: list[str], device) -> list[float]:
    """Per layer: mean over texts of 1 - (sum_ij A_ij |i-j| / sum A) / (n-1), A head-averaged."""
    model.eval()
    per_text = []
    for t in texts:
        ids = tok(t)["input_ids"][:LOCALITY_TOKENS]
        n = len(ids)
        x = torch.tensor([ids], dtype=torch.long, device=device)
        out = model(input_ids=x, output_attentions=True)
        atts = out.attentions
        assert atts is not None and len(atts) == model.config.num_hidden_layers, "no attentions returned"
        idx = torch.arange(n, device=device, dtype=torch.float64)
        dist = (idx[:, None] - idx[None, :]).abs()
        locs = []
        for a in atts:
            A = a[0].double().mean(dim=0)  # head-averaged [n, n]
            locs.append(1.0 - ((A * dist).sum() / A.sum()).item() / (n - 1))
        per_text.append(locs)
    return [float(v) for v in np.mean(np.array(per_text), axis=0)]


def dir_bytes(d: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def lr_at(step: int, total: int, peak: float, warmup: int, min_ratio: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def train_model(family, cfg, train_ids_t, val_windows, args, device, hp):
    torch.manual_seed(args.seed)
    model = MODEL_CLASSES[family](cfg).to(device)
    check_architecture(family, model)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"{family}: {n_params:,} parameters")

    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": hp["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=hp["lr"],
        betas=hp["betas"],
        eps=1e-8,
        fused=True,
    )
    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed)
    bos = 2 if family == "opt" else None
    span = SEQ - 1 if bos is not None else SEQ
    n_train = train_ids_t.numel()
    offsets = torch.arange(span, device=device)
    bos_col = torch.full((hp["batch"], 1), 2, dtype=torch.long, device=device) if bos is not None else None

    best = (float("inf"), -1, None)
    curve = []
    since_best = 0
    t0 = time.time()
    steps_run = 0
    stop_reason = "steps"
    for step in range(args.steps):
        lr = lr_at(step, args.steps, hp["lr"], hp["warmup"], hp["min_lr_ratio"])
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        starts = torch.randint(0, n_train - span, (hp["batch"],), device=device, generator=gen)
        x = train_ids_t[starts[:, None] + offsets[None, :]]
        if bos_col is not None:
            x = torch.cat([bos_col, x], dim=1)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.size(-1)), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), hp["clip"])
        opt.step()
        steps_run = step + 1
        if steps_run % hp["eval_every"] == 0 or steps_run == args.steps:
            vl, _ = eval_loss(model, val_windows, device, autocast=True)
            el = time.time() - t0
            curve.append((steps_run, float(loss.item()), vl))
            mark = ""
            if vl < best[0]:
                best = (vl, steps_run, {k: v.detach().clone() for k, v in model.state_dict().items()})
                since_best = 0
                mark = " *"
            else:
                since_best += 1
            log(f"{family} step {steps_run:5d} lr {lr:.2e} train {loss.item():.4f} val {vl:.4f}{mark} ({el:.1f}s)")
            if since_best >= hp["patience"]:
                stop_reason = f"early stop: no val improvement in {hp['patience']} evaluations"
                break
            if el > args.max_seconds:
                stop_reason = f"time cap {args.max_seconds}s"
                break
    torch.cuda.synchronize()
    wall = time.time() - t0
    model.load_state_dict(best[2])
    return model, {
        "n_params": n_params,
        "steps_run": steps_run,
        "best_step": best[1],
        "best_val_bf16": best[0],
        "curve": curve,
        "wall": wall,
        "stop_reason": stop_reason,
        "tokens_seen": steps_run * hp["batch"] * SEQ,
        "tokens_at_best": best[1] * hp["batch"] * SEQ,
    }


# --------------------------------------------------------------------------------------------
# Per-family pipeline
# --------------------------------------------------------------------------------------------

def check_native_files(family: str, d: str) -> None:
    files = set(os.listdir(d))
    if family in ("gpt2", "opt"):
        check({"vocab.json", "merges.txt", "tokenizer_config.json"} <= files, f"{family}: vocab.json + merges.txt + tokenizer_config.json")
        check("tokenizer.json" not in files, f"{family}: no tokenizer.json (native GPT-2 files only)")
        with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
            first = f.readline()
        check(first.startswith("#version"), f"{family}: merges.txt header")
        check(len(vocab) == VOCAB and sorted(vocab.values()) == list(range(VOCAB)), f"{family}: vocab.json ids 0..{VOCAB - 1}")
        with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
            tc = json.load(f)
        check(tc.get("tokenizer_class") == "GPT2Tokenizer", f"{family}: tokenizer_class GPT2Tokenizer")
        if family == "gpt2":
            check(vocab.get("<|endoftext|>") == VOCAB - 1, "gpt2: <|endoftext|> is the last id")
            check(not tc.get("add_bos_token", False), "gpt2: no add_bos_token")
        else:
            check([vocab.get(t) for t in ("<s>", "<pad>", "</s>", "<unk>")] == [0, 1, 2, 3], "opt: fairseq order <s> <pad> </s> <unk>")
            check(tc.get("add_bos_token") is True and tc.get("bos_token") == "</s>", "opt: add_bos_token with bos </s>")
    else:
        check({"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} <= files, "pythia: tokenizer.json + tokenizer_config.json + special_tokens_map.json")
        check("vocab.json" not in files and "merges.txt" not in files, "pythia: one tokenizer.json, no vocab.json/merges.txt")
        with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
            tj = json.load(f)
        check(tj["normalizer"] and tj["normalizer"]["type"] == "NFC", "pythia: NFC normalizer")
        pt = tj["pre_tokenizer"]
        check(pt["type"] == "ByteLevel" and pt["add_prefix_space"] is False, "pythia: ByteLevel pre-tokenizer, add_prefix_space false")
        check(tj["decoder"]["type"] == "ByteLevel", "pythia: ByteLevel decoder")
        at = {a["id"]: a for a in tj["added_tokens"]}
        check(at.get(0, {}).get("content") == "<|endoftext|>" and at[0]["special"], "pythia: <|endoftext|> = 0, special")
        check(tj["model"]["type"] == "BPE" and len(tj["model"]["vocab"]) == VOCAB, "pythia: BPE model, 4096 ids")
        check(all(isinstance(m, str) for m in tj["model"]["merges"]), "pythia: merges as 'a b' strings")
        with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
            tc = json.load(f)
        check(tc.get("tokenizer_class") == "GPTNeoXTokenizer", "pythia: tokenizer_class GPTNeoXTokenizer")
    check(os.path.isfile(os.path.join(d, "config.json")), f"{family}: config.json")
    check(os.path.isfile(os.path.join(d, "model.safetensors")), f"{family}: model.safetensors")


def reload_tokenizer_ids(d: str, text: str, bos: int | None, own_ids: list[int], family: str) -> list[int]:
    rtok = AutoTokenizer.from_pretrained(d)
    log(f"{family}: reloaded tokenizer {type(rtok).__name__}, len {len(rtok)}")
    ids = rtok(text)["input_ids"]
    if bos is not None:
        check(len(ids) > 0 and ids[0] == bos, f"{family}: reloaded tokenizer starts every text with id {bos}")
        ids = ids[1:]
        probe = rtok("Hello")["input_ids"]
        check(probe[0] == bos, f"{family}: 'Hello' -> {probe}")
    else:
        check(len(ids) > 0 and ids[0] == own_ids[0], f"{family}: reloaded tokenizer prepends nothing")
    same = ids == own_ids
    if not same:
        n_diff = sum(1 for a, b in zip(ids, own_ids) if a != b) + abs(len(ids) - len(own_ids))
        first = next((i for i, (a, b) in enumerate(zip(ids, own_ids)) if a != b), min(len(ids), len(own_ids)))
        log(f"  WARNING {family}: reloaded tokenizer differs from the training tokenizer on {n_diff} positions "
            f"(lengths {len(ids)} vs {len(own_ids)}; first at {first}: {ids[first:first + 8]} vs {own_ids[first:first + 8]})")
    else:
        log(f"  ok: {family}: reloaded tokenizer reproduces the training tokenization ({len(ids)} tokens)")
    return ids


def md_table(rows: list[tuple[str, str]]) -> str:
    out = ["| item | value |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out)


def write_training_md(d, family, name, cfg_text, hp, args, tr, res, env, tok_desc, model_desc):
    lines = [f"# {name}: training record", ""]
    lines.append(
        f"{model_desc}, trained from scratch by `scripts/train_demo_models.py` on tinyshakespeare "
        "(karpathy/char-rnn `input.txt`, 1,115,394 characters): the first 90% of the characters "
        "for training, the last 10% held out for validation. Tokenizer: "
        f"{tok_desc}, trained with the `tokenizers` library on the training split only."
    )
    lines += ["", "## Run", ""]
    lines.append(md_table([
        ("command", "`" + " ".join(["python3", "scripts/train_demo_models.py"] + sys.argv[1:]) + "`"),
        ("seed", str(args.seed)),
        ("device", env["device"]),
        ("software", f"python {env['python']}, torch {env['torch']}, transformers {env['transformers']}, tokenizers {env['tokenizers']}"),
        ("parameters", f"{tr['n_params']:,}"),
        ("steps run (of --steps)", f"{tr['steps_run']} of {args.steps} ({tr['stop_reason']})"),
        ("checkpoint saved", f"step {tr['best_step']} (lowest validation loss among the evaluations every {hp['eval_every']} steps)"),
        ("tokens seen", f"{tr['tokens_seen']:,} ({tr['tokens_at_best']:,} up to the saved step); {res['n_train_tokens']:,} training tokens per epoch"),
        ("training wall time", f"{tr['wall']:.1f} s"),
        ("saved dtype", res["dtype"]),
        ("folder size", f"{res['bytes']:,} bytes"),
    ]))
    lines += ["", "## Hyperparameters", ""]
    lines.append(md_table([
        ("optimizer", f"AdamW, betas {hp['betas']}, eps 1e-8, weight decay {hp['weight_decay']} on matrices and embeddings (none on biases and norms)"),
        ("learning rate", f"peak {hp['lr']}, linear warmup {hp['warmup']} steps, cosine decay to {hp['min_lr_ratio']}x peak at step {args.steps}"),
        ("batch", f"{hp['batch']} sequences x {SEQ} tokens" + (" (</s> + 255 text tokens)" if family == "opt" else "") + ", random windows of the training token stream"),
        ("gradient clipping", f"global norm {hp['clip']}"),
        ("precision", "fp32 weights, bf16 autocast in training; evaluation below in fp32 on the saved weights"),
        ("dropout", res["dropout"]),
        ("early stopping", f"after {hp['patience']} evaluations without a lower validation loss; time cap {args.max_seconds} s"),
        ("shape", f"{LAYERS} layers, hidden {HIDDEN}, {HEADS} heads (head dim {HIDDEN // HEADS}), MLP {FFN}, vocabulary {VOCAB}, context {SEQ} (max positions {MAX_POS})"),
    ]))
    lines += ["", "## Validation", ""]
    lines.append(
        "Validation text: the last 10% of the characters, tokenized as one string by the reloaded tokenizer "
        "(`AutoTokenizer.from_pretrained` on this folder). Windows of at most 256 inputs, "
        + ("each `</s>` + 255 tokens, so every validation token is predicted once." if family == "opt"
           else "overlapping by one token, so every validation token but the first is predicted once.")
        + " Loss is the mean next-token cross-entropy in nats of this folder reloaded with "
        "`AutoModelForCausalLM.from_pretrained` (weights upcast to fp32). The unigram baseline uses token "
        "frequencies of the training split under the same tokenizer with add-one smoothing over the "
        "vocabulary, evaluated on the same predicted tokens."
    )
    lines.append("")
    lines.append(md_table([
        ("validation tokens predicted", f"{res['n_val_targets']:,}"),
        ("validation loss", f"{res['val_loss']:.4f} nats/token"),
        ("validation perplexity", f"{math.exp(res['val_loss']):.2f}"),
        ("loss before saving (fp32, in memory)", f"{res['val_loss_mem']:.4f} (relative difference {res['rel_diff']:.2e})"),
        ("unigram perplexity", f"{math.exp(res['uni_loss']):.2f} (loss {res['uni_loss']:.4f})"),
        ("unigram / model perplexity", f"{math.exp(res['uni_loss'] - res['val_loss']):.2f}"),
    ]))
    lines += ["", "## Attention locality", ""]
    lines.append(
        f"Per layer, over {LOCALITY_TEXTS} validation passages of {LOCALITY_TOKENS} tokens, eager attention "
        "(`attn_implementation=\"eager\"`, `output_attentions=True`): locality = 1 - (sum_ij A_ij |i-j| / sum A) / (n-1) "
        "of the head-averaged attention A; 1 means every token attends to itself, lower values mean longer reach."
    )
    lines.append("")
    lines.append("| layer | " + " | ".join(str(i) for i in range(len(res["locality"]))) + " |")
    lines.append("| --- | " + " | ".join("---" for _ in res["locality"]) + " |")
    lines.append("| locality | " + " | ".join(f"{v:.3f}" for v in res["locality"]) + " |")
    lines.append("")
    lines.append(f"Range across layers: {min(res['locality']):.3f} to {max(res['locality']):.3f} ({max(res['locality']) - min(res['locality']):.3f}).")
    lines += ["", "## Validation curve (bf16 autocast, fp32 weights)", "", "| step | train loss | validation loss |", "| --- | --- | --- |"]
    lines += [f"| {s} | {tl:.4f} | {vl:.4f} |" for s, tl, vl in tr["curve"]]
    lines += ["", "## config.json", "", "```json", cfg_text.rstrip(), "```", ""]
    with open(os.path.join(d, "TRAINING.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def prepare_family(family, train_text, val_text, args):
    """Train and save the tokenizer, save the config, check the tokenizer round trip."""
    name = NAMES[family]
    d = os.path.join(args.out, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    log(f"==== {name}: tokenizer")
    builder = {"gpt2": build_gpt2_tokenizer, "pythia": build_pythia_tokenizer, "opt": build_opt_tokenizer}[family]
    tok = builder(train_text, d)
    bos = 2 if family == "opt" else None
    train_ids = np.array(tok.encode(train_text).ids, dtype=np.int64)
    val_ids = tok.encode(val_text).ids
    log(f"{name}: {len(train_ids):,} training tokens, {len(val_ids):,} validation tokens "
        f"({len(train_text) / len(train_ids):.2f} / {len(val_text) / len(val_ids):.2f} characters per token)")
    check(int(train_ids.max()) < VOCAB, f"{name}: ids below {VOCAB}")

    cfg = make_config(family, args.dropout)
    cfg.save_pretrained(d)  # so AutoTokenizer sees the model type before training
    # Fail fast on the tokenizer round trip before spending GPU time.
    reload_tokenizer_ids(d, val_text, bos, val_ids, name)
    return {"family": family, "name": name, "dir": d, "tok": tok, "bos": bos, "cfg": cfg,
            "train_ids": train_ids, "val_ids": val_ids}


def run_family(prep, val_text, args, device, env):
    family, name, d, bos, cfg = prep["family"], prep["name"], prep["dir"], prep["bos"], prep["cfg"]
    train_ids, val_ids = prep["train_ids"], prep["val_ids"]
    hp = dict(HP)
    train_ids_t = torch.tensor(train_ids, dtype=torch.long, device=device)
    val_windows = eval_windows(val_ids, bos)
    log(f"==== {name}: training")
    model, tr = train_model(family, cfg, train_ids_t, val_windows, args, device, hp)
    val_loss_mem, _ = eval_loss(model, val_windows, device, autocast=False)
    log(f"{name}: best step {tr['best_step']}, val loss fp32 in memory {val_loss_mem:.4f}")

    dtype = torch.float16
    model = model.to(dtype)
    model.save_pretrained(d)
    del model
    torch.cuda.empty_cache()

    log(f"==== {name}: verification")
    check_native_files(family, d)
    nbytes = dir_bytes(d)
    check(nbytes <= MAX_MODEL_BYTES, f"{name}: folder {nbytes:,} bytes <= {MAX_MODEL_BYTES:,}")

    r_ids = reload_tokenizer_ids(d, val_text, bos, val_ids, name)
    r_windows = eval_windows(r_ids, bos)
    rmodel = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).to(device)
    check(type(rmodel).__name__ == MODEL_CLASSES[family].__name__, f"{name}: reloads as {type(rmodel).__name__}")
    check_architecture(family, rmodel)
    val_loss, n_targets = eval_loss(rmodel, r_windows, device, autocast=False)
    rel = abs(val_loss - val_loss_mem) / val_loss_mem
    check(rel <= MAX_RELOAD_REL_DIFF, f"{name}: reloaded val loss {val_loss:.4f} vs {val_loss_mem:.4f} (rel {rel:.2e} <= 1%)")
    uni = unigram_nll(train_ids, window_targets(r_windows), VOCAB)
    ppl, uppl = math.exp(val_loss), math.exp(uni)
    log(f"{name}: val loss {val_loss:.4f} ppl {ppl:.2f}; unigram ppl {uppl:.2f}; ratio {uppl / ppl:.2f}")
    if not args.no_quality_checks:
        check(uppl / ppl >= MIN_UNIGRAM_FACTOR, f"{name}: perplexity beats unigram by {uppl / ppl:.2f}x >= {MIN_UNIGRAM_FACTOR}")
    del rmodel

    emodel = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").to(device)
    rtok = AutoTokenizer.from_pretrained(d)
    locs = layer_localities(emodel, rtok, locality_texts(val_text), device)
    del emodel
    log(f"{name}: locality per layer: " + " ".join(f"{v:.3f}" for v in locs)
        + f"  (range {max(locs) - min(locs):.3f})")
    if not args.no_quality_checks:
        check(max(locs) - min(locs) >= MIN_LOCALITY_RANGE, f"{name}: locality varies by {max(locs) - min(locs):.3f} >= {MIN_LOCALITY_RANGE} across layers")

    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg_text = f.read()
    p = args.dropout
    dropout = {
        "gpt2": f"resid_pdrop {p}, embd_pdrop {p}, attn_pdrop 0.0",
        "pythia": f"hidden_dropout {p}, attention_dropout 0.0",
        "opt": f"dropout {p}, attention_dropout 0.0",
    }[family]
    model_desc = {
        "gpt2": "GPT2LMHeadModel (learned positions, pre-LN, gelu_new, lm_head tied to wte)",
        "pythia": "GPTNeoXForCausalLM in Pythia's configuration (rotary on 25% of each head's dims, parallel residual, exact gelu, untied embed_out)",
        "opt": "OPTForCausalLM (pre-LN, ReLU, learned positions with offset 2, lm_head tied to embed_tokens)",
    }[family]
    tok_desc = {
        "gpt2": "byte-level BPE, 4096 ids, saved as GPT-2's vocab.json + merges.txt (<|endoftext|> = 4095)",
        "pythia": "byte-level BPE, 4096 ids, saved as one GPT-NeoX-style tokenizer.json (NFC normalizer, ByteLevel pre-tokenizer and decoder, <|endoftext|> = 0, <|padding|> = 1)",
        "opt": "byte-level BPE, 4096 ids, saved in OPT's format: vocab.json in fairseq order (<s> 0, <pad> 1, </s> 2, <unk> 3) + merges.txt, add_bos_token so every text starts with </s> = 2",
    }[family]
    res = {
        "val_loss": val_loss, "val_loss_mem": val_loss_mem, "rel_diff": rel, "uni_loss": uni,
        "n_val_targets": n_targets, "n_train_tokens": len(train_ids), "locality": locs,
        "bytes": nbytes, "dtype": "float16 (safetensors)", "dropout": dropout,
    }
    write_training_md(d, family, name, cfg_text, hp, args, tr, res, env, tok_desc, model_desc)
    nbytes = dir_bytes(d)
    return {
        "name": name, "params": tr["n_params"], "bytes": nbytes, "val_loss": val_loss, "ppl": ppl,
        "unigram_ppl": uppl, "locality": locs, "best_step": tr["best_step"], "steps_run": tr["steps_run"],
        "wall": tr["wall"],
    }


HP = {
    "batch": 32,
    "lr": 1.5e-3,
    "betas": (0.9, 0.95),
    "weight_decay": 0.1,
    "warmup": 100,
    "min_lr_ratio": 0.1,
    "clip": 1.0,
    "eval_every": 100,
    "patience": 8,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True, help="tinyshakespeare.txt")
    ap.add_argument("--out", required=True, help="output folder; models go to OUT/<name>")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1200, help="optimizer steps per model (cosine schedule length)")
    ap.add_argument("--dropout", type=float, default=0.2, help="residual/embedding dropout (attention dropout is 0)")
    ap.add_argument("--max-seconds", type=float, default=80.0, help="training time cap per model (seconds)")
    ap.add_argument("--families", default="gpt2,pythia,opt")
    ap.add_argument("--no-quality-checks", action="store_true",
                    help="skip the perplexity and locality assertions (smoke tests with few steps)")
    args = ap.parse_args()

    if not torch.cuda.is_available():
        print("error: a CUDA GPU is required", file=sys.stderr)
        return 2
    device = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    with open(args.corpus, encoding="utf-8") as f:
        text = f.read()
    cut = int(len(text) * 0.9)
    train_text, val_text = text[:cut], text[cut:]
    log(f"corpus {len(text):,} characters: train {len(train_text):,}, validation {len(val_text):,}")
    env = {
        "device": f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }
    log(f"environment: {env}")
    os.makedirs(args.out, exist_ok=True)

    results = []
    failures = []
    t_all = time.time()
    preps = []
    for fam in [f.strip() for f in args.families.split(",")]:
        try:
            preps.append(prepare_family(fam, train_text, val_text, args))
        except Exception as e:  # report every family's tokenizer problem in one run
            log(f"FAILED ({fam} tokenizer): {type(e).__name__}: {e}")
            traceback.print_exc()
            failures.append(fam)
    if failures:
        log(f"tokenizer checks failed for {failures}; no training")
        return 1
    for prep in preps:
        try:
            results.append(run_family(prep, val_text, args, device, env))
        except Exception as e:
            log(f"FAILED ({prep['name']}): {type(e).__name__}: {e}")
            traceback.print_exc()
            failures.append(prep["name"])
    if not failures:
        total = sum(r["bytes"] for r in results)
        if total > MAX_TOTAL_BYTES:
            log(f"FAILED: all models together {total:,} bytes > {MAX_TOTAL_BYTES:,}")
            failures.append("total size")
        else:
            log(f"  ok: all models together {total:,} bytes <= {MAX_TOTAL_BYTES:,}")
    log(f"==== summary ({time.time() - t_all:.1f}s)")
    for r in results:
        log(f"{r['name']:12s} params {r['params']:,} bytes {r['bytes']:,} val loss {r['val_loss']:.4f} "
            f"ppl {r['ppl']:.2f} unigram ppl {r['unigram_ppl']:.2f} (x{r['unigram_ppl'] / r['ppl']:.2f}) "
            f"locality {min(r['locality']):.3f}..{max(r['locality']):.3f} best step {r['best_step']}/{r['steps_run']} "
            f"train {r['wall']:.1f}s")
    print(json.dumps(results, indent=1))
    if failures:
        log(f"FAILED: {failures}")
        return 1
    log("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
