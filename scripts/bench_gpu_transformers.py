#!/usr/bin/env python3
"""transformers' side of scripts/bench_gpu.py: one case, one mode, on one GPU; prints one JSON line.

  eager  GPTNeoXModel with attn_implementation="eager" and output_attentions=True, then the
         notebook's metrics (scripts/notebook_metrics.py) computed on the GPU with torch from
         every layer's probabilities: the head average's and every head's locality and flattened
         entropy (the 1e-10 rule), sheaf trace's off-diagonal mass, sink mass;
  sdpa   the same model with attn_implementation="sdpa" and no attentions: the floor, a forward
         pass that returns nothing but the hidden states.

Random weights with the real shapes (transformers' own initializer), built on the GPU in the
compute dtype; TF32 off. Tokens/s over `--repeats` timed forwards after one warm-up; peak memory
is torch.cuda.max_memory_allocated over the timed forwards, weights included, measured after
the model is built.

Usage: bench_gpu_transformers.py --layers L --hidden D --heads H --ffn F --tokens N --batch B
                                 --dtype bf16|fp32 --mode eager|sdpa [--repeats R]
"""
import argparse
import json
import time

import torch
from transformers import GPTNeoXConfig, GPTNeoXModel

EPS = 1e-10


def notebook_metrics(attn):
    """attn: (B, H, n, n) probabilities of one layer. Returns the numbers, as tensors."""
    a = attn.float()
    n = a.shape[-1]
    pos = torch.arange(n, device=a.device, dtype=torch.float32)
    dist = (pos[:, None] - pos[None, :]).abs()

    def locality(m):  # m (..., n, n)
        return 1.0 - (m * dist).sum(dim=(-2, -1)) / m.sum(dim=(-2, -1)) / (n - 1)

    def entropy(m):
        flat = m.flatten(-2)
        kept = torch.where(flat > EPS, flat, torch.zeros_like(flat))
        p = kept / kept.sum(dim=-1, keepdim=True)
        return -(torch.where(p > 0, p * torch.log(p + EPS), torch.zeros_like(p))).sum(dim=-1)

    mean = a.mean(dim=1)  # (B, n, n)
    return {
        "locality": locality(mean),
        "entropy": entropy(mean),
        "off_diagonal": mean.sum(dim=(-2, -1)) - torch.diagonal(mean, dim1=-2, dim2=-1).sum(-1),
        "sink": mean[..., 0].mean(dim=-1),
        "head_locality": locality(a),
        "head_entropy": entropy(a),
    }


def main():
    ap = argparse.ArgumentParser()
    for name in ("layers", "hidden", "heads", "ffn", "tokens", "batch"):
        ap.add_argument("--" + name, type=int, required=True)
    ap.add_argument("--dtype", choices=["bf16", "fp32"], required=True)
    ap.add_argument("--mode", choices=["eager", "sdpa"], required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    config = GPTNeoXConfig(vocab_size=50304, hidden_size=args.hidden, num_hidden_layers=args.layers,
                           num_attention_heads=args.heads, intermediate_size=args.ffn,
                           max_position_embeddings=max(2048, args.tokens), rotary_pct=0.25,
                           use_parallel_residual=True, attn_implementation=args.mode)
    with torch.device("cuda"):
        model = GPTNeoXModel(config).to(dtype).eval()
    ids = torch.randint(0, config.vocab_size, (args.batch, args.tokens), device="cuda")
    result = {"mode": args.mode, "dtype": args.dtype, "tokens": args.tokens, "batch": args.batch}

    def step():
        with torch.no_grad():
            out = model(ids, output_attentions=args.mode == "eager")
            if args.mode == "eager":
                numbers = [notebook_metrics(layer) for layer in out.attentions]
                torch.stack([m["locality"] for m in numbers]).cpu()  # the metrics reach the host
            else:
                out.last_hidden_state[:, -1].float().cpu()
        del out

    try:
        step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            step()
        torch.cuda.synchronize()
        seconds = (time.perf_counter() - t0) / args.repeats
        result.update(tokens_per_s=args.batch * args.tokens / seconds, seconds=seconds,
                      peak_bytes=torch.cuda.max_memory_allocated())
    except torch.OutOfMemoryError:
        result.update(out_of_memory=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
