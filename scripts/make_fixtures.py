#!/usr/bin/env python3
"""Builds bentov's reference fixtures with Hugging Face transformers (DESIGN.md section 7).

Run where PyTorch and transformers are installed (the device machine):

    python3 scripts/make_fixtures.py --out tests/data/fixtures            # tiny random checkpoints
    python3 scripts/make_fixtures.py --out OUT --reference-only models/*  # references for existing folders

For every checkpoint it writes the folder transformers' save_pretrained produced (config.json,
safetensors, possibly sharded) and, beside the weights, `reference.safetensors` + `reference.json`:

  reference.safetensors  seq{k}.input_ids              I64 [n]
                         seq{k}.blocks.{l}.attn.pattern F64 [head, q_pos, k_pos]  eager attention
                         seq{k}.last_hidden             F64 [n, hidden]           base model output
  reference.json         transformers version, per-sequence notebook metrics (scripts/notebook_metrics.py
                         when present), per-layer ||W_V||_F^2, the id sequences.

The references come from reloading the saved folder with transformers in float64 and eager
attention, so they reflect exactly what transformers makes of the files on disk (fp16 rounding
included), never from bentov's own code.
"""
import argparse
import collections
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from transformers import (AutoModel, Gemma2Config, Gemma2ForCausalLM, GemmaConfig, GemmaForCausalLM,
                          GPT2Config, GPT2LMHeadModel, GPT2Model, GPTNeoXConfig, GPTNeoXForCausalLM,
                          GPTNeoXModel, LlamaConfig, LlamaForCausalLM, LlamaModel, MistralConfig,
                          MistralForCausalLM, OPTConfig, OPTForCausalLM, OPTModel, PhiConfig,
                          PhiForCausalLM, Qwen2Config, Qwen2ForCausalLM)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_texts import TEXT_FIXTURES  # noqa: E402
try:
    from notebook_metrics import notebook_layer_metrics  # noqa: E402
except ImportError:  # written separately; references then omit the notebook metrics
    notebook_layer_metrics = None

INIT_STD = 0.3  # peaked attention (DESIGN.md section 7)


def randomize(model, seed):
    """Peaked random weights; every bias and norm parameter randomized (transformers would
    leave biases at 0 and norm gains at 1, which hides bias and norm bugs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            lname = name.lower()
            is_norm = ("norm" in lname or "ln_" in lname or "layernorm" in lname) and p.dim() == 1
            if is_norm and name.endswith("weight"):
                p.copy_(1.0 + 0.3 * noise)
            elif p.dim() == 1:  # biases
                p.copy_(0.3 * noise)
            else:
                p.copy_(INIT_STD * noise)


def gpt2_cfg(**kw):
    base = dict(vocab_size=300, n_positions=128, n_embd=64, n_layer=3, n_head=4,
                activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    base.update(kw)
    return GPT2Config(**base)


def neox_cfg(**kw):
    base = dict(vocab_size=300, hidden_size=64, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=256, max_position_embeddings=128, hidden_act="gelu",
                rotary_pct=0.25, rotary_emb_base=10000, use_parallel_residual=True,
                tie_word_embeddings=False, attention_dropout=0.0, hidden_dropout=0.0)
    base.update(kw)
    return GPTNeoXConfig(**base)


def opt_cfg(**kw):
    base = dict(vocab_size=300, hidden_size=64, num_hidden_layers=3, ffn_dim=128,
                num_attention_heads=4, max_position_embeddings=128, do_layer_norm_before=True,
                word_embed_proj_dim=64, activation_function="relu", dropout=0.0,
                attention_dropout=0.0, pad_token_id=1, bos_token_id=2, eos_token_id=2)
    base.update(kw)
    return OPTConfig(**base)


def llama_kw(**kw):
    base = dict(vocab_size=300, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, intermediate_size=128, max_position_embeddings=128,
                hidden_act="silu", rms_norm_eps=1e-6, attention_dropout=0.0, tie_word_embeddings=False,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    base.update(kw)
    return base


def phi_cfg(**kw):
    """Phi-2's shape in miniature: LayerNorm, one norm feeding the parallel attention and MLP,
    q/k/v/dense biases, rotary on half of each head, gelu_new."""
    base = dict(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128,
                hidden_act="gelu_new", layer_norm_eps=1e-5, resid_pdrop=0.0, embd_pdrop=0.0,
                attention_dropout=0.0, qk_layernorm=False, tie_word_embeddings=False,
                partial_rotary_factor=0.5,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5})
    base.update(kw)
    return PhiConfig(**base)


def gemma_kw(**kw):
    """Gemma in miniature: RMSNorm scaled by 1 + w, embeddings times sqrt(hidden), GeGLU
    (tanh GELU), an explicit head_dim, multi-query attention, tied output head. Both
    activation keys say the same, whichever one the modeling code reads."""
    base = dict(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                num_key_value_heads=1, head_dim=16, intermediate_size=64, max_position_embeddings=128,
                hidden_act="gelu_pytorch_tanh", hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6,
                attention_dropout=0.0, tie_word_embeddings=True,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    base.update(kw)
    return base


# Gemma 2 on top: sandwich norms (post-attention and pre/post-feedforward), scores scaled by
# query_pre_attn_scalar^-0.5 (24, not head_dim) and soft-capped by cap * tanh(s / cap) with a
# cap small enough to bend them, sliding window on layer 0 and full attention on layer 1.
GEMMA2_KW = dict(query_pre_attn_scalar=24, attn_logit_softcapping=5.0, final_logit_softcapping=3.0,
                 sliding_window=8, layer_types=["sliding_attention", "full_attention"])


# name: (model class, config, storage dtype, shard size or None, config style)
CHECKPOINTS = {
    "gpt2-lmhead": (GPT2LMHeadModel, lambda: gpt2_cfg(), torch.float32, None, "hub"),
    "gpt2-base-bf16": (GPT2Model, lambda: gpt2_cfg(n_embd=48, n_layer=2, n_head=3,
                                                  scale_attn_by_inverse_layer_idx=True),
                       torch.bfloat16, None, "new"),
    "pythia-hub": (GPTNeoXForCausalLM, lambda: neox_cfg(), torch.float16, None, "hub"),
    "pythia-sharded-serial": (GPTNeoXModel, lambda: neox_cfg(
        hidden_size=96, num_hidden_layers=2, num_attention_heads=3, intermediate_size=192,
        rotary_pct=0.5, rotary_emb_base=1000, use_parallel_residual=False),
        torch.float16, "60KB", "new"),
    "opt-preln": (OPTForCausalLM, lambda: opt_cfg(), torch.float16, None, "hub"),
    "opt-postln-proj-sharded": (OPTModel, lambda: opt_cfg(
        word_embed_proj_dim=32, do_layer_norm_before=False, num_hidden_layers=2),
        torch.float16, "40KB", "new"),
    "llama-gqa-bf16": (LlamaForCausalLM, lambda: LlamaConfig(**llama_kw()), torch.bfloat16, None, "new"),
    "llama3-rope-headdim-hub": (LlamaModel, lambda: LlamaConfig(**llama_kw(
        num_key_value_heads=1, head_dim=24, attention_bias=True, mlp_bias=True,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32})),
        torch.float32, None, "hub"),
    "mistral-window-sharded": (MistralForCausalLM, lambda: MistralConfig(**llama_kw(sliding_window=8)),
                               torch.float16, "60KB", "new"),
    "qwen2-bias-linear-rope": (Qwen2ForCausalLM, lambda: Qwen2Config(**llama_kw(
        rope_parameters={"rope_type": "linear", "rope_theta": 1000000.0, "factor": 2.0})),
        torch.float16, None, "new"),
    # Written by torch.save instead of safetensors (TORCH_BIN below), as hub-era checkpoints are.
    "pythia-hub-torchbin": (GPTNeoXForCausalLM, lambda: neox_cfg(), torch.float16, None, "hub"),
    "pythia-torchbin-sharded": (GPTNeoXModel, lambda: neox_cfg(
        hidden_size=96, num_hidden_layers=2, num_attention_heads=3, intermediate_size=192,
        rotary_pct=0.5, use_parallel_residual=False), torch.float16, None, "hub"),
    "gpt2-tied-torchbin": (GPT2LMHeadModel, lambda: gpt2_cfg(n_layer=2), torch.float32, None, "hub"),
    "llama-gqa-bf16-torchbin": (LlamaForCausalLM, lambda: LlamaConfig(**llama_kw()), torch.bfloat16, None, "new"),
    # Stored as the hub's checkpoints are: Phi-1.5 and Phi-2 in float16, Gemma in bfloat16.
    "phi-parallel-partial-rope": (PhiForCausalLM, lambda: phi_cfg(), torch.float16, None, "new"),
    "gemma-geglu-mqa-bf16": (GemmaForCausalLM, lambda: GemmaConfig(**gemma_kw()), torch.bfloat16, None, "new"),
    "gemma2-softcap-window-bf16": (Gemma2ForCausalLM, lambda: Gemma2Config(**gemma_kw(**GEMMA2_KW)),
                                   torch.bfloat16, None, "new"),
}

# Shorter sequences than the default [2, 20, 100] for the small-budget fixtures (the reference's
# float64 patterns grow with n^2); 48 tokens still cross Gemma 2's window of 8 many times.
SEQUENCE_LENGTHS = {"phi-parallel-partial-rope": [2, 20, 48], "gemma-geglu-mqa-bf16": [2, 20, 48],
                    "gemma2-softcap-window-bf16": [2, 20, 48]}


def text_kw(vocab, **kw):
    """As small as a real vocabulary allows: the tied embedding is most of the file."""
    return llama_kw(vocab_size=vocab, hidden_size=16, num_attention_heads=2, num_key_value_heads=1,
                    intermediate_size=32, tie_word_embeddings=True, **kw)


# name: (model class, config from the tokenizer's vocabulary size), stored in bfloat16. The
# output head is tied to the embedding, so the file holds the vocabulary once.
# Analyzed from text (tests/conformance/text_fixture_test.cpp) with the real tokenizer files,
# whose ids scripts/fixture_texts.py recorded with AutoTokenizer.
TEXT_CHECKPOINTS = {
    "llama2-text": (LlamaForCausalLM, lambda v: LlamaConfig(**text_kw(v))),
    "mistral-text": (MistralForCausalLM, lambda v: MistralConfig(**text_kw(v, sliding_window=8))),
    "llama3-text": (LlamaForCausalLM, lambda v: LlamaConfig(**text_kw(v, rope_parameters={
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 32}))),
    "qwen2-text": (Qwen2ForCausalLM, lambda v: Qwen2Config(**text_kw(v, rope_parameters={
        "rope_type": "default", "rope_theta": 1000000.0}))),
}
assert set(TEXT_CHECKPOINTS) == set(TEXT_FIXTURES)

# name: shard size in bytes (None: one pytorch_model.bin). These folders hold what torch.save
# wrote, no safetensors: the state dict as the model returns it (tied weights share one storage),
# plus, for GPT-NeoX, the buffers old Pythia files carry (attention.bias, masked_bias,
# rotary_emb.inv_freq), which readers must skip.
TORCH_BIN = {"pythia-hub-torchbin": None, "pythia-torchbin-sharded": 60_000,
             "gpt2-tied-torchbin": None, "llama-gqa-bf16-torchbin": None}


def to_hub_style(folder):
    """Rewrites a config.json saved by current transformers into the key names of hub-era
    checkpoints (torch_dtype, rotary_pct, rotary_emb_base) that real Pythia/OPT configs use."""
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    rope = cfg.pop("rope_parameters", None)
    if cfg.get("model_type") == "gpt_neox" and rope is not None:
        cfg["rotary_pct"] = rope.get("partial_rotary_factor", 0.25)
        cfg["rotary_emb_base"] = rope.get("rope_theta", 10000)
    elif rope is not None:  # Llama family: rope_theta beside a rope_scaling block (or null)
        rope = dict(rope)
        cfg["rope_theta"] = rope.pop("rope_theta", 10000.0)
        cfg["rope_scaling"] = None if rope.get("rope_type", "default") == "default" else rope
    cfg["transformers_version"] = "4.24.0"
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)


def legacy_neox_buffers(model):
    """The non-parameter tensors that transformers 4.2x wrote into every Pythia checkpoint."""
    cfg = model.config
    prefix = "gpt_neox." if model.base_model is not model else ""
    n = cfg.max_position_embeddings
    head = cfg.hidden_size // cfg.num_attention_heads
    rope = getattr(cfg, "rope_parameters", None) or {}
    rot = int(head * rope.get("partial_rotary_factor", getattr(cfg, "rotary_pct", 0.25)))
    base = rope.get("rope_theta", getattr(cfg, "rotary_emb_base", 10000))
    out = {}
    for i in range(cfg.num_hidden_layers):
        at = f"{prefix}layers.{i}.attention."
        out[at + "bias"] = torch.tril(torch.ones(n, n, dtype=torch.bool)).view(1, 1, n, n)
        out[at + "masked_bias"] = torch.tensor(-1e9)
        out[at + "rotary_emb.inv_freq"] = 1.0 / (base ** (torch.arange(0, rot, 2).float() / rot))
    return out


def to_torch_bin(folder, model, shard_bytes):
    """Replaces save_pretrained's safetensors with torch.save output (pytorch_model.bin, or
    pytorch_model-0000k-of-0000N.bin shards and pytorch_model.bin.index.json)."""
    for f in os.listdir(folder):
        if f.endswith(".safetensors") or f == "model.safetensors.index.json":
            os.remove(os.path.join(folder, f))
    sd = model.state_dict()  # an OrderedDict; tied weights are views of one storage
    if model.config.model_type == "gpt_neox":
        sd.update(legacy_neox_buffers(model))
    if shard_bytes is None:
        torch.save(sd, os.path.join(folder, "pytorch_model.bin"))
        return
    shards, size = [collections.OrderedDict()], 0
    for name, t in sd.items():
        nbytes = t.numel() * t.element_size()
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append(collections.OrderedDict())
            size = 0
        shards[-1][name] = t
        size += nbytes
    weight_map = {}
    for k, shard in enumerate(shards):
        fname = f"pytorch_model-{k + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(shard, os.path.join(folder, fname))
        weight_map.update({name: fname for name in shard})
    total = sum(t.numel() * t.element_size() for t in sd.values())
    with open(os.path.join(folder, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def value_frob_sq(model):
    """||W_V||_F^2 per layer, read from the model's own modules (DESIGN.md section 4)."""
    base = model.base_model
    out = []
    mt = model.config.model_type
    if mt == "gpt2":
        d = model.config.n_embd
        for blk in base.h:
            w = blk.attn.c_attn.weight  # [in, 3d] (Conv1D)
            out.append(float((w[:, 2 * d:3 * d].double() ** 2).sum()))
    elif mt == "gpt_neox":
        h = model.config.num_attention_heads
        d = model.config.hidden_size
        dh = d // h
        for layer in base.layers:
            w = layer.attention.query_key_value.weight.view(h, 3, dh, -1)  # [3d, in] per head q,k,v
            out.append(float((w[:, 2].double() ** 2).sum()))
    elif mt == "opt":
        for layer in base.decoder.layers:
            out.append(float((layer.self_attn.v_proj.weight.double() ** 2).sum()))
    elif mt in ("llama", "mistral", "qwen2", "phi", "gemma", "gemma2"):
        # Each query head reads its group's value head: v_proj repeated H / KV times.
        groups = model.config.num_attention_heads // model.config.num_key_value_heads
        for layer in base.layers:
            out.append(groups * float((layer.self_attn.v_proj.weight.double() ** 2).sum()))
    else:
        raise ValueError(mt)
    return out


def sequences(vocab, seed, lengths, max_pos):
    g = np.random.default_rng(seed)
    return [g.integers(0, vocab, size=min(n, max_pos)).tolist() for n in lengths]


def record_reference(folder, seqs, texts=None):
    # transformers reads pytorch_model.bin itself (torch.load, weights_only) as it does safetensors.
    model = AutoModel.from_pretrained(folder, dtype=torch.float64, attn_implementation="eager")
    model.eval()
    tensors = {}
    meta = {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
            "model_class": type(model).__name__, "value_frob_sq": value_frob_sq(model),
            "sequences": []}
    for k, ids in enumerate(seqs):
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_attentions=True)
        atts = [a[0].double().numpy() for a in out.attentions]
        tensors[f"seq{k}.input_ids"] = np.asarray(ids, dtype=np.int64)
        for layer, a in enumerate(atts):
            tensors[f"seq{k}.blocks.{layer}.attn.pattern"] = np.ascontiguousarray(a)
        tensors[f"seq{k}.last_hidden"] = np.ascontiguousarray(out.last_hidden_state[0].double().numpy())
        entry = {"input_ids": ids}
        if texts is not None:
            entry["text"] = texts[k]
        if notebook_layer_metrics is not None:
            entry["notebook"] = notebook_layer_metrics(atts, meta["value_frob_sq"])
        meta["sequences"].append(entry)
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"  {folder}: {len(seqs)} sequences, {len(atts)} layers", flush=True)


def build_checkpoints(out, only=None):
    for i, (name, (cls, make_cfg, dtype, shard, style)) in enumerate(CHECKPOINTS.items()):
        if only and name not in only:
            continue
        folder = os.path.join(out, name)
        shutil.rmtree(folder, ignore_errors=True)
        torch.manual_seed(i)
        cfg = make_cfg()
        model = cls(cfg)
        randomize(model, seed=1000 + i)
        model = model.to(dtype)
        kwargs = {"max_shard_size": shard} if shard else {}
        model.save_pretrained(folder, **kwargs)
        if name in TORCH_BIN:
            to_torch_bin(folder, model, TORCH_BIN[name])
        if style == "hub":
            to_hub_style(folder)
        max_pos = getattr(cfg, "max_position_embeddings", None) or cfg.n_positions
        seqs = sequences(cfg.vocab_size, seed=i, lengths=SEQUENCE_LENGTHS.get(name, [2, 20, 100]), max_pos=max_pos)
        record_reference(folder, seqs)


def build_text_checkpoints(out, ids_file, only=None):
    with open(ids_file) as f:
        recorded = json.load(f)
    for i, (name, (cls, make_cfg)) in enumerate(TEXT_CHECKPOINTS.items()):
        if only and name not in only:
            continue
        entry = recorded[name]
        folder = os.path.join(out, name)
        shutil.rmtree(folder, ignore_errors=True)
        torch.manual_seed(100 + i)
        model = cls(make_cfg(entry["vocab_size"]))
        randomize(model, seed=2000 + i)
        model = model.to(torch.bfloat16)
        model.save_pretrained(folder)
        with open(os.path.join(folder, "tokenizer.source"), "w") as f:
            f.write(entry["tokenizer"] + "\n")
        record_reference(folder, entry["input_ids"], entry["texts"])


def reference_for_folders(folders, texts):
    from transformers import AutoTokenizer
    for folder in folders:
        tok = AutoTokenizer.from_pretrained(folder)
        seqs = [tok(t)["input_ids"] for t in texts]
        record_reference(folder, seqs, texts)


DEMO_TEXTS = [
    "The fundamental nature of reality is that all things are interconnected through underlying mathematical structures.",
    "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet is the sun.",
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*", default=None, help="build only these CHECKPOINTS entries")
    ap.add_argument("--text-ids", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                       "data", "text_fixture_ids.json"),
                    help="AutoTokenizer's ids for the TEXT_CHECKPOINTS (scripts/fixture_texts.py)")
    ap.add_argument("--text-out", default=None, help="where the TEXT_CHECKPOINTS go (default: --out)")
    ap.add_argument("--reference-only", nargs="*", default=None,
                    help="existing model folders: copy config+weights+tokenizer to OUT/<name> and record references for DEMO_TEXTS")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    os.makedirs(args.out, exist_ok=True)
    if args.reference_only is None:
        build_checkpoints(args.out, args.only)
        build_text_checkpoints(args.text_out or args.out, args.text_ids, args.only)
    else:
        for src in args.reference_only:
            dst = os.path.join(args.out, os.path.basename(os.path.normpath(src)))
            os.makedirs(dst, exist_ok=True)
            reference_for_folders([src], DEMO_TEXTS)
            for f in ("reference.safetensors", "reference.json"):
                shutil.move(os.path.join(src, f), os.path.join(dst, f))


if __name__ == "__main__":
    main()
