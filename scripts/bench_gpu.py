#!/usr/bin/env python3
"""bentov against transformers on the same GPU, in one run: tokens/s and peak GPU memory.

For each case (a Pythia shape, a compute dtype, a length and a batch of texts):
  - bentov: `bentov_bench --benchmark_filter=^BM_Forward` with BENTOV_BENCH_DEVICE=cuda,
    BENTOV_BENCH_DTYPE, BENTOV_BENCH_TOKENS and BENTOV_BENCH_TEXTS: the forward pass and every
    signature, on a random-weight checkpoint with the real shape written by bentov_make_model
    (fp16, as the hub's; pythia-12b as zeros in a sparse file, which times the same);
  - transformers, eager attention with output_attentions=True and the notebook's metrics
    computed on the GPU with torch (scripts/bench_gpu_transformers.py --mode eager);
  - transformers with SDPA and no attentions, the floor (--mode sdpa).
Peak memory is sampled from nvidia-smi for every process alike (the process's whole use: CUDA
context, weights, activations); transformers' own torch.cuda.max_memory_allocated is printed too.
Prints a table and writes --json.

Usage (on the GPU machine, after building with CUDA and -DBENTOV_BUILD_BENCH=ON or the tests):
    python3 scripts/bench_gpu.py --bench build/bentov_bench --make-model build/bentov_make_model \\
        --work /tmp/bench-gpu [--cases 0,1] [--json bench_gpu.json]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = {  # layers, hidden, heads, ffn
    "pythia-160m": (12, 768, 12, 3072),
    "pythia-1.4b": (24, 2048, 16, 8192),
    "pythia-12b": (36, 5120, 40, 20480),
}
CASES = [  # shape, dtype, tokens, texts
    ("pythia-160m", "bf16", 512, 64),
    ("pythia-1.4b", "bf16", 2048, 4),
    ("pythia-12b", "bf16", 2048, 1),
    ("pythia-12b", "bf16", 8192, 1),
    ("pythia-1.4b", "bf16", 32768, 1),
    ("pythia-1.4b", "fp32", 8192, 1),
    ("pythia-1.4b", "fp32", 16384, 1),
]
MAX_POSITIONS = 32768


class PeakGpuMemory:
    """Samples the GPU memory a process uses (nvidia-smi), every 50 ms while it runs."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                                  "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
            for line in out.splitlines():
                fields = [f.strip() for f in line.split(",")]
                if len(fields) == 2 and fields[0] == str(self.pid) and fields[1].isdigit():
                    self.peak = max(self.peak, int(fields[1]) << 20)
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def run_sampled(cmd, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sampler = PeakGpuMemory(proc.pid)
    out, err = proc.communicate()
    peak = sampler.stop()
    return proc.returncode, out, err, peak


def make_model(make_model_bin, work, shape):
    folder = os.path.join(work, shape)
    config = os.path.join(folder, "config.json")
    if not os.path.exists(config):
        cmd = [make_model_bin, shape, folder] + (["1", "--zeros"] if shape == "pythia-12b" else [])
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(config) as f:
            cfg = json.load(f)
        cfg["max_position_embeddings"] = MAX_POSITIONS  # random weights: long cases need the room
        with open(config, "w") as f:
            json.dump(cfg, f, indent=1)
    return folder


def last_pass_phases(err):
    """The phase lines (BENTOV_CUDA_PHASES) of the last pass in a bentov_bench stderr."""
    lines = [l for l in err.splitlines() if l.startswith("bentov cuda phase")]
    names = {l.split()[3] for l in lines}
    return lines[-len(names):] if names else []


def bentov_case(bench_bin, folder, dtype, tokens, texts, phases=False):
    env = dict(os.environ, BENTOV_BENCH_MODEL=folder, BENTOV_BENCH_DEVICE="cuda", BENTOV_BENCH_DTYPE=dtype,
               BENTOV_BENCH_TOKENS=str(tokens), BENTOV_BENCH_TEXTS=str(texts))
    if phases:
        env["BENTOV_CUDA_PHASES"] = "1"
    rc, out, err, peak = run_sampled([bench_bin, "--benchmark_filter=^BM_Forward", "--benchmark_format=json",
                                      "--benchmark_min_time=1"], env)
    for line in last_pass_phases(err):
        print("  " + line, file=sys.stderr, flush=True)
    if rc != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {rc}"}
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs or runs[0].get("error_occurred"):
        return {"error": runs[0].get("error_message", "no run") if runs else "no run"}
    return {"tokens_per_s": runs[0]["tokens/s"], "peak_bytes": peak}


def transformers_case(shape, dtype, tokens, texts, mode):
    layers, hidden, heads, ffn = SHAPES[shape]
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "bench_gpu_transformers.py"), "--layers", str(layers),
           "--hidden", str(hidden), "--heads", str(heads), "--ffn", str(ffn), "--tokens", str(tokens),
           "--batch", str(texts), "--dtype", dtype, "--mode", mode]
    rc, out, err, peak = run_sampled(cmd)
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if rc != 0 or not lines:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {rc}"}
    r = json.loads(lines[-1])
    r["peak_bytes_torch"] = r.pop("peak_bytes", None)
    r["peak_bytes"] = peak
    return r


def gib(b):
    return f"{b / (1 << 30):.1f} GiB" if b else "-"


def rate(r):
    if "not_run" in r:
        return "not run (--sdpa-only)"
    if "out_of_memory" in r:
        return "out of memory"
    if "error" in r:
        return "error: " + r["error"][:40]
    return f"{r['tokens_per_s']:,.0f} tok/s, {gib(r['peak_bytes'])}"


def ratio(a, b):
    if "tokens_per_s" in a and "tokens_per_s" in b:
        return f"{a['tokens_per_s'] / b['tokens_per_s']:.2f}x"
    return "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="bentov_bench built with CUDA")
    ap.add_argument("--make-model", required=True, help="bentov_make_model")
    ap.add_argument("--work", default="/tmp/bench-gpu", help="where the checkpoints are written")
    ap.add_argument("--cases", default=None, help="comma-separated indices into the case list (default: all)")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--sdpa-only", default="",
                    help="comma-separated case indices whose transformers side is SDPA alone (where eager is "
                         "known to run out of memory: a minute of device time each)")
    ap.add_argument("--phases", action="store_true",
                    help="print where bentov's last pass spent its GPU time (BENTOV_CUDA_PHASES)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    indices = [int(i) for i in args.cases.split(",")] if args.cases else list(range(len(CASES)))
    sdpa_only = {int(i) for i in args.sdpa_only.split(",") if i}
    rows = []
    for index in indices:
        shape, dtype, tokens, texts = CASES[index]
        label = f"{dtype} {shape}, {tokens} tokens x {texts}"
        print(f"bench_gpu: {label}", file=sys.stderr, flush=True)
        folder = make_model(args.make_model, args.work, shape)
        row = {"shape": shape, "dtype": dtype, "tokens": tokens, "texts": texts,
               "bentov": bentov_case(args.bench, folder, dtype, tokens, texts, args.phases)}
        if not args.skip_transformers:
            row["eager"] = ({"not_run": True} if index in sdpa_only
                            else transformers_case(shape, dtype, tokens, texts, "eager"))
            row["sdpa"] = transformers_case(shape, dtype, tokens, texts, "sdpa")
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print("| job | transformers eager + metrics | transformers SDPA, no attentions | bentov | bentov / eager | "
          "bentov / SDPA | bentov memory / SDPA's |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        b, e, s = r["bentov"], r.get("eager", {}), r.get("sdpa", {})
        mem = (f"{b['peak_bytes'] / s['peak_bytes']:.2f}x" if b.get("peak_bytes") and s.get("peak_bytes") else "-")
        print(f"| {r['dtype']} {r['shape']}, {r['tokens']} x {r['texts']} | {rate(e) if e else '-'} | "
              f"{rate(s) if s else '-'} | {rate(b)} | {ratio(b, e)} | {ratio(b, s)} | {mem} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": rows}, f, indent=1)


if __name__ == "__main__":
    main()
