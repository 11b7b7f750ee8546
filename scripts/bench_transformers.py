#!/usr/bin/env python3
"""The notebook's stack (transformers, eager attention, output_attentions=True) on the same
random-weight checkpoints as scripts/bench.py, for the side-by-side comparison.

Run where torch and transformers are installed, after scripts/bench.py created the models:
    scripts/bench_transformers.py --models /tmp/bentov-bench-models --cpus 0,1 --json hf.json
Every job is a fresh Python process pinned with taskset, torch limited to as many threads as
cores, the metrics computed with the notebook's numpy code (scripts/notebook_metrics.py).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

JOB = r'''
import sys, time, random
t_start = time.perf_counter()
import numpy as np, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
sys.path.insert(0, {here!r})
from notebook_metrics import notebook_layer_metrics
torch.set_num_threads({threads})
SENTENCE = "The fundamental nature of reality is that all things are interconnected through underlying mathematical structures."

def value_frob(model):
    return [0.0] * model.config.num_hidden_layers  # the trace's scale is irrelevant to timing

def run(folder, ids):
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
    model.eval()
    t1 = time.perf_counter()
    with torch.no_grad():
        out = model(torch.tensor([ids], dtype=torch.long), output_attentions=True)
    atts = [a[0].float().numpy() for a in out.attentions]
    notebook_layer_metrics(atts, value_frob(model))
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1

mode = {mode!r}
if mode == "notebook":
    import os
    for folder in {folders!r}:
        # As scripts/bench.py: the sentence where the model has its tokenizer, else 18 ids.
        if any(os.path.exists(os.path.join(folder, f)) for f in ("tokenizer.json", "vocab.json")):
            ids = AutoTokenizer.from_pretrained(folder)(SENTENCE)["input_ids"]
        else:
            ids = [random.Random(1).randrange(50000) for _ in range(18)]
        run(folder, ids)
    print("RESULT", time.perf_counter() - t_start)
else:
    rng = random.Random(1)
    ids = [rng.randrange(50000) for _ in range({n})]
    best = None
    for _ in range({repeat}):
        load, fwd = run({folders!r}[0], ids)
        best = fwd if best is None else min(best, fwd)
    print("RESULT", best, load)
'''


def job(code, pin):
    """Runs one fresh Python process; returns (wall s, peak RSS bytes, RESULT values)."""
    cmd = (["taskset", "-c", pin] if pin else []) + [sys.executable, "-c", code]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)  # files, not pipes: no deadlock
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if os.waitstatus_to_exitcode(status) != 0 or "RESULT" not in text:
            sys.exit(err.read().decode()[-3000:])
    vals = [float(v) for v in text.split("RESULT", 1)[1].split()]
    return wall, usage.ru_maxrss * 1024, vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="/tmp/bentov-bench-models")
    ap.add_argument("--cpus", default="0,1")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    threads = len(args.cpus.split(","))
    m = lambda name: os.path.join(args.models, name)
    code = lambda **kw: JOB.format(here=HERE, threads=threads, **kw)
    import torch
    import transformers
    res = {"transformers": transformers.__version__, "torch": torch.__version__, "runs": {}}
    wall, rss, _ = job(code(mode="notebook", folders=[m(x) for x in ("pythia-160m", "pythia-410m", "gpt2", "opt-125m")],
                            n=0, repeat=1), args.cpus)
    res["runs"]["notebook_job"] = {"wall_s": wall, "peak_rss_bytes": rss}
    print("notebook job", res["runs"]["notebook_job"], flush=True)
    for n in (128, 512, 2048):
        wall, rss, (fwd, load) = job(code(mode="n", folders=[m("pythia-160m")], n=n, repeat=2), args.cpus)
        res["runs"][f"pythia-160m_n{n}"] = {"n": n, "process_wall_s": wall, "forward_metrics_s": fwd,
                                            "tokens_per_s": n / fwd, "load_s": load, "peak_rss_bytes": rss}
        print(n, res["runs"][f"pythia-160m_n{n}"], flush=True)
    wall, rss, (fwd, load) = job(code(mode="n", folders=[m("pythia-410m")], n=2048, repeat=1), args.cpus)
    res["runs"]["pythia-410m_n2048"] = {"process_wall_s": wall, "forward_metrics_s": fwd, "load_s": load,
                                        "peak_rss_bytes": rss}
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
