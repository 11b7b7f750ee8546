#!/usr/bin/env python3
"""bentov's performance figures, printed as a table and written as JSON.

Creates random-weight checkpoints with the real shapes of gpt2, pythia-160m, pythia-410m and
opt-125m (bentov_make_model: bentov's own safetensors writer, fp16 where the hub's are), adds the
real tokenizer files from ../shared/data/tokenizers when present, then measures, each command
pinned to the same cores (taskset):

  - the notebook's job: 4 models x the notebook sentence, process start to end;
  - `bentov analyze` end to end (load included) at n = 128, 512, 2048 tokens (pythia-160m):
    wall time, tokens/s, peak RSS; and the steady rate, with the 2-token run's wall taken off;
  - the forward pass alone (bentov_bench BM_Forward) and OpenBLAS sgemm (BM_Sgemm) in the same
    run, their FLOP rates and ratio;
  - the same pair under each OpenBLAS core type the CPU runs (OPENBLAS_CORETYPE: Sandybridge,
    Haswell, Zen, SkylakeX, Cooperlake as scripts/blas_cores.sh finds them), each in one run;
  - model load time (a 2-token run);
  - pythia-410m at 2048 tokens: wall, FLOP rate with load included, peak RSS.

With --bf16, the same analyze runs and forward passes again with --dtype bf16 (the CPU's bf16
products through oneDNN: AMX or AVX512-BF16), their rates against the same run's float32 sgemm.

With --transformers, scripts/bench_transformers.py then runs the notebook's stack on the same
checkpoints and cores, in the same run, and the table ends with the side-by-side: bentov's
speed-up and memory against transformers per job (needs torch and transformers; the rest of the
script needs only the Python standard library).

Usage: scripts/bench.py [--build build-bench] [--cpus 0,1] [--json bench.json] [--core-types SkylakeX,Haswell]
                        [--bf16] [--transformers [--python python3]]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("BENTOV_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
MODELS = {  # name: (preset, tokenizer folder in shared/data/tokenizers)
    "pythia-160m": ("pythia-160m", "pythia"),
    "pythia-410m": ("pythia-410m", "pythia"),
    "gpt2": ("gpt2", "gpt2"),
    "opt-125m": ("opt-125m", "opt"),
}
SHAPES = {  # layers, hidden, ffn (for FLOP counts: the dense formulation transformers runs)
    "pythia-160m": (12, 768, 3072), "pythia-410m": (24, 1024, 4096), "gpt2": (12, 768, 3072),
    "opt-125m": (12, 768, 3072), "pythia-6.9b": (32, 4096, 16384),
}


def forward_flops(name, n):
    layers, d, ff = SHAPES[name]
    return layers * (2 * n * (4 * d * d + 2 * d * ff) + 4 * n * n * d)


def run_rss(cmd, pin):
    """Like run, but also the child's peak RSS (bytes) from wait4."""
    full = (["taskset", "-c", pin] if pin else []) + cmd
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(full)}\n{err[-2000:]}")
    return wall, usage.ru_maxrss * 1024


def best_of(k, fn):
    results = [fn() for _ in range(k)]
    return min(results, key=lambda r: r[0])


def ids(n, vocab=50000, seed=1):
    rng = random.Random(seed)
    return ",".join(str(rng.randrange(vocab)) for _ in range(n))


def ensure_build(build):
    needed = ["bentov", "bentov_make_model", "bentov_bench"]
    if not all(os.path.exists(os.path.join(build, b)) for b in needed):
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                               "-DBENTOV_BUILD_BENCH=ON", "-DBENTOV_BUILD_TESTS=OFF"])
        subprocess.check_call(["cmake", "--build", build, "-j", str(os.cpu_count() or 2)])


def make_models(build, folder):
    os.makedirs(folder, exist_ok=True)
    for name, (preset, tok) in MODELS.items():
        dst = os.path.join(folder, name)
        if not os.path.exists(os.path.join(dst, "model.safetensors")):
            subprocess.check_call([os.path.join(build, "bentov_make_model"), preset, dst])
        src = os.path.join(SHARED, "tokenizers", tok)
        if os.path.isdir(src):  # real tokenizer files beside the random weights (never committed)
            for f in os.listdir(src):
                shutil.copy(os.path.join(src, f), dst)


def bench_json(build, pin, model, n, threads, filt, core=None, dtype="fp32"):
    env = dict(os.environ, BENTOV_BENCH_MODEL=model, BENTOV_BENCH_TOKENS=str(n),
               BENTOV_BENCH_THREADS=str(threads), BENTOV_BENCH_DTYPE=dtype)
    if core:
        env["OPENBLAS_CORETYPE"] = core  # also keeps bentov_bench from choosing its own
    full = (["taskset", "-c", pin] if pin else []) + [os.path.join(build, "bentov_bench"),
                                                      f"--benchmark_filter={filt}", "--benchmark_format=json"]
    out = subprocess.run(full, env=env, check=True, capture_output=True).stdout
    return json.loads(out)["benchmarks"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--models", default="/tmp/bentov-bench-models")
    ap.add_argument("--cpus", default="0,1", help="cores to pin to (taskset -c); '' for none")
    ap.add_argument("--json", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--large", action="store_true",
                    help="also pythia-6.9b's shape at 2048 tokens: a sparse all-zero checkpoint (13.7 GB, no disk), "
                         "widened on use where its float32 copy does not fit; minutes on 2 cores")
    ap.add_argument("--core-types", default=None,
                    help="OpenBLAS core types to time the forward pass under, comma-separated "
                         "(default: every one this CPU runs, scripts/blas_cores.sh; '' for none)")
    ap.add_argument("--bf16", action="store_true",
                    help="also the analyze runs and forward passes with --dtype bf16 (oneDNN's bf16 products)")
    ap.add_argument("--transformers", action="store_true",
                    help="also time transformers on the same models and cores (scripts/bench_transformers.py)")
    ap.add_argument("--python", default=sys.executable, help="the Python with torch and transformers")
    args = ap.parse_args()
    pin = args.cpus if args.cpus and shutil.which("taskset") else ""
    threads = len(args.cpus.split(",")) if args.cpus else (os.cpu_count() or 1)
    ensure_build(args.build)
    make_models(args.build, args.models)
    bentov = os.path.join(args.build, "bentov")
    m = lambda name: os.path.join(args.models, name)
    res = {"machine": {"cpus": args.cpus, "threads": threads, "model_name": cpu_name()}, "runs": {}}

    order = ["pythia-160m", "pythia-410m", "gpt2", "opt-125m"]
    have_tok = os.path.exists(os.path.join(m("gpt2"), "vocab.json"))
    text_args = [] if have_tok else ["--ids", ids(18)]
    wall, rss = best_of(args.repeat, lambda: run_rss([bentov, "analyze", *map(m, order), "--quiet", *text_args], pin))
    res["runs"]["notebook_job"] = {"wall_s": wall, "peak_rss_bytes": rss, "from_text": have_tok}

    wall, rss = best_of(args.repeat, lambda: run_rss([bentov, "analyze", m("pythia-160m"), "--ids", ids(2), "--quiet"], pin))
    res["runs"]["load_pythia-160m"] = {"wall_s": wall, "peak_rss_bytes": rss}

    for n in (128, 512, 2048):
        wall, rss = best_of(args.repeat, lambda: run_rss([bentov, "analyze", m("pythia-160m"), "--ids", ids(n), "--quiet"], pin))
        # Steady rate: the 2-token run's wall (process start, load, tokenizer) taken off.
        steady = max(wall - res["runs"]["load_pythia-160m"]["wall_s"], 1e-9)
        res["runs"][f"analyze_pythia-160m_n{n}"] = {"n": n, "wall_s": wall, "tokens_per_s": n / wall,
                                                    "forward_metrics_s": steady,
                                                    "tokens_per_s_steady": n / steady, "peak_rss_bytes": rss}
    wall, rss = run_rss([bentov, "analyze", m("pythia-410m"), "--ids", ids(2048), "--quiet"], pin)
    res["runs"]["analyze_pythia-410m_n2048"] = {"n": 2048, "wall_s": wall, "peak_rss_bytes": rss,
                                                "flops_per_s_load_included": forward_flops("pythia-410m", 2048) / wall}

    sg = {b["name"]: b["FLOP/s"] for b in bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Sgemm")}
    fw = bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Forward")[0]
    fw410 = bench_json(args.build, pin, m("pythia-410m"), 2048, threads, "Forward")[0]
    sgemm_512 = sg["BM_Sgemm/512/768/3072/real_time"]
    sgemm_2048 = sg["BM_Sgemm/2048/1024/4096/real_time"]
    res["runs"]["forward_pythia-160m_n512"] = {"flops_per_s": fw["FLOP/s"], "tokens_per_s": fw["tokens/s"],
                                               "sgemm_flops_per_s": sgemm_512, "ratio": fw["FLOP/s"] / sgemm_512}
    res["runs"]["forward_pythia-410m_n2048"] = {"flops_per_s": fw410["FLOP/s"], "sgemm_flops_per_s": sgemm_2048,
                                                "ratio": fw410["FLOP/s"] / sgemm_2048}
    r410 = res["runs"]["analyze_pythia-410m_n2048"]
    r410["ratio_to_sgemm_load_included"] = r410["flops_per_s_load_included"] / sgemm_2048

    # The forward pass against sgemm under each OpenBLAS core type this CPU runs, each pair in one run.
    cores = blas_core_types() if args.core_types is None else [c for c in args.core_types.split(",") if c]
    res["core_types"] = {}
    for core in cores:
        sg = {b["name"]: b["FLOP/s"] for b in bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Sgemm", core)}
        f160 = bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Forward", core)[0]["FLOP/s"]
        f410 = bench_json(args.build, pin, m("pythia-410m"), 2048, threads, "Forward", core)[0]["FLOP/s"]
        s512, s2048 = sg["BM_Sgemm/512/768/3072/real_time"], sg["BM_Sgemm/2048/1024/4096/real_time"]
        res["core_types"][core] = {
            "forward_pythia-160m_n512": {"flops_per_s": f160, "sgemm_flops_per_s": s512, "ratio": f160 / s512},
            "forward_pythia-410m_n2048": {"flops_per_s": f410, "sgemm_flops_per_s": s2048, "ratio": f410 / s2048}}

    if args.large:
        big = m("pythia-6.9b")
        if not os.path.exists(os.path.join(big, "model.safetensors")):
            subprocess.check_call([os.path.join(args.build, "bentov_make_model"), "pythia-6.9b", big, "--zeros"])
        mapped = os.path.getsize(os.path.join(big, "model.safetensors"))
        wall, rss = run_rss([bentov, "analyze", big, "--ids", ids(2048), "--quiet"], pin)
        sgemm = {b["name"]: b["FLOP/s"] for b in bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Sgemm")}
        sg_big = sgemm["BM_Sgemm/2048/1024/4096/real_time"]  # measured again, right after
        rate = forward_flops("pythia-6.9b", 2048) / wall
        res["runs"]["analyze_pythia-6.9b_n2048"] = {"n": 2048, "wall_s": wall, "peak_rss_bytes": rss,
                                                    "mapped_bytes": mapped, "flops_per_s_load_included": rate,
                                                    "sgemm_flops_per_s": sg_big, "ratio": rate / sg_big}

    if args.bf16:
        res["bf16"] = bf16_side(args, bentov, m, pin, threads, res)
    if args.transformers:
        res["transformers"] = transformers_side(args.python, args.models, args.cpus)
    print_table(res)
    if res.get("transformers"):
        print_side_by_side(res)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


def bf16_side(args, bentov, m, pin, threads, res):
    """The analyze runs and forward passes of the table again with --dtype bf16."""
    out = {}
    load = res["runs"]["load_pythia-160m"]["wall_s"]
    for n in (128, 512, 2048):
        wall, rss = best_of(args.repeat, lambda: run_rss([bentov, "analyze", m("pythia-160m"), "--ids", ids(n), "--dtype",
                                                          "bf16", "--quiet"], pin))
        out[f"analyze_pythia-160m_n{n}"] = {"n": n, "wall_s": wall, "forward_metrics_s": max(wall - load, 1e-9),
                                            "peak_rss_bytes": rss}
    wall, rss = run_rss([bentov, "analyze", m("pythia-410m"), "--ids", ids(2048), "--dtype", "bf16", "--quiet"], pin)
    out["analyze_pythia-410m_n2048"] = {"n": 2048, "wall_s": wall, "peak_rss_bytes": rss,
                                        "flops_per_s_load_included": forward_flops("pythia-410m", 2048) / wall}
    sg = {b["name"]: b["FLOP/s"] for b in bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Sgemm")}
    f160 = bench_json(args.build, pin, m("pythia-160m"), 512, threads, "Forward", dtype="bf16")[0]
    f410 = bench_json(args.build, pin, m("pythia-410m"), 2048, threads, "Forward", dtype="bf16")[0]
    s512, s2048 = sg["BM_Sgemm/512/768/3072/real_time"], sg["BM_Sgemm/2048/1024/4096/real_time"]
    out["forward_pythia-160m_n512"] = {"flops_per_s": f160["FLOP/s"], "tokens_per_s": f160["tokens/s"],
                                       "sgemm_flops_per_s": s512, "ratio": f160["FLOP/s"] / s512}
    out["forward_pythia-410m_n2048"] = {"flops_per_s": f410["FLOP/s"], "sgemm_flops_per_s": s2048,
                                        "ratio": f410["FLOP/s"] / s2048}
    out["analyze_pythia-410m_n2048"]["ratio_to_sgemm_load_included"] = (
        out["analyze_pythia-410m_n2048"]["flops_per_s_load_included"] / s2048)
    return out


def transformers_side(python, models, cpus):
    """scripts/bench_transformers.py's figures on the same checkpoints and cores."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "hf.json")
        subprocess.run([python, os.path.join(ROOT, "scripts", "bench_transformers.py"), "--models", models,
                        "--cpus", cpus, "--json", out], check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)


def print_side_by_side(res):
    """bentov against transformers, job by job: time ratio (> 1: bentov faster) and peak RSS."""
    r, t = res["runs"], res["transformers"]
    hf = t["runs"]
    print(f"bentov against transformers {t['transformers']} (torch {t['torch']}, eager, output_attentions), same cores")
    mb = lambda b: f"{b / 2**20:.0f} MB"
    rows = [("notebook job, process wall", r["notebook_job"]["wall_s"], hf["notebook_job"]["wall_s"],
             r["notebook_job"]["peak_rss_bytes"], hf["notebook_job"]["peak_rss_bytes"])]
    for n in (128, 512, 2048):  # the forward pass and the metrics, load taken off on both sides
        b, h = r[f"analyze_pythia-160m_n{n}"], hf[f"pythia-160m_n{n}"]
        rows.append((f"pythia-160m n={n}, forward + metrics", b["forward_metrics_s"], h["forward_metrics_s"],
                     b["peak_rss_bytes"], h["peak_rss_bytes"]))
    b, h = r["analyze_pythia-410m_n2048"], hf["pythia-410m_n2048"]
    rows.append(("pythia-410m n=2048, process wall", b["wall_s"], h["process_wall_s"], b["peak_rss_bytes"], h["peak_rss_bytes"]))
    if "bf16" in res:  # bentov --dtype bf16 against the same float32 transformers runs
        b16 = res["bf16"]
        for n in (128, 512, 2048):
            b, h = b16[f"analyze_pythia-160m_n{n}"], hf[f"pythia-160m_n{n}"]
            rows.append((f"bentov bf16: pythia-160m n={n}, forward + metrics", b["forward_metrics_s"], h["forward_metrics_s"],
                         b["peak_rss_bytes"], h["peak_rss_bytes"]))
        b, h = b16["analyze_pythia-410m_n2048"], hf["pythia-410m_n2048"]
        rows.append(("bentov bf16: pythia-410m n=2048, process wall", b["wall_s"], h["process_wall_s"],
                     b["peak_rss_bytes"], h["peak_rss_bytes"]))
    w = max(len(x[0]) for x in rows)
    for name, ours, theirs, rss_ours, rss_theirs in rows:
        print(f"  {name:<{w}}  {ours:8.2f} s vs {theirs:8.2f} s = {theirs / ours:5.1f}x   "
              f"{mb(rss_ours)} vs {mb(rss_theirs)} = {rss_ours / rss_theirs:.2f}x")


def blas_core_types():
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "blas_cores.sh")], check=True,
                         capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def print_table(res):
    r = res["runs"]
    g = lambda x: f"{x / 1e9:.1f}"
    mb = lambda b: f"{b / 2**20:.0f} MB"
    print(f"bentov benchmark on {res['machine']['model_name']}, cores {res['machine']['cpus']}")
    rows = [
        ("notebook job (4 models x sentence), wall", f"{r['notebook_job']['wall_s']:.2f} s", mb(r['notebook_job']['peak_rss_bytes'])),
        ("load pythia-160m (2-token run), wall", f"{r['load_pythia-160m']['wall_s']:.2f} s", mb(r['load_pythia-160m']['peak_rss_bytes'])),
    ]
    for n in (128, 512, 2048):
        x = r[f"analyze_pythia-160m_n{n}"]
        rows.append((f"analyze pythia-160m n={n}, end to end", f"{x['tokens_per_s']:.0f} tokens/s ({x['wall_s']:.2f} s)", mb(x['peak_rss_bytes'])))
    f = r["forward_pythia-160m_n512"]
    rows.append(("forward pythia-160m n=512 / sgemm", f"{g(f['flops_per_s'])} / {g(f['sgemm_flops_per_s'])} GFLOP/s = {f['ratio']:.0%}", f"{f['tokens_per_s']:.0f} tokens/s"))
    f = r["forward_pythia-410m_n2048"]
    rows.append(("forward pythia-410m n=2048 / sgemm", f"{g(f['flops_per_s'])} / {g(f['sgemm_flops_per_s'])} GFLOP/s = {f['ratio']:.0%}", ""))
    x = r["analyze_pythia-410m_n2048"]
    rows.append(("analyze pythia-410m n=2048 (load incl.)", f"{x['wall_s']:.2f} s, {g(x['flops_per_s_load_included'])} GFLOP/s = {x['ratio_to_sgemm_load_included']:.0%} of sgemm", mb(x['peak_rss_bytes'])))
    if "analyze_pythia-6.9b_n2048" in r:
        x = r["analyze_pythia-6.9b_n2048"]
        rows.append(("analyze pythia-6.9b shape n=2048 (sparse)", f"{x['wall_s']:.1f} s, {g(x['flops_per_s_load_included'])} GFLOP/s = {x['ratio']:.0%} of sgemm",
                     f"{mb(x['peak_rss_bytes'])} (map {mb(x['mapped_bytes'])})"))
    for core, c in res.get("core_types", {}).items():
        for name, key in (("160m n=512", "forward_pythia-160m_n512"), ("410m n=2048", "forward_pythia-410m_n2048")):
            f = c[key]
            rows.append((f"  {core}: forward pythia-{name} / sgemm",
                         f"{g(f['flops_per_s'])} / {g(f['sgemm_flops_per_s'])} GFLOP/s = {f['ratio']:.0%}", ""))
    if "bf16" in res:
        b16 = res["bf16"]
        for n in (128, 512, 2048):
            x = b16[f"analyze_pythia-160m_n{n}"]
            rows.append((f"bf16: analyze pythia-160m n={n}", f"{n / x['wall_s']:.0f} tokens/s ({x['wall_s']:.2f} s)", mb(x['peak_rss_bytes'])))
        for name, key in (("160m n=512", "forward_pythia-160m_n512"), ("410m n=2048", "forward_pythia-410m_n2048")):
            f = b16[key]
            rows.append((f"bf16: forward pythia-{name} / fp32 sgemm",
                         f"{g(f['flops_per_s'])} / {g(f['sgemm_flops_per_s'])} GFLOP/s = {f['ratio']:.0%}", ""))
        x = b16["analyze_pythia-410m_n2048"]
        rows.append(("bf16: analyze pythia-410m n=2048 (load incl.)",
                     f"{x['wall_s']:.2f} s, {g(x['flops_per_s_load_included'])} GFLOP/s = {x['ratio_to_sgemm_load_included']:.0%} of fp32 sgemm",
                     mb(x['peak_rss_bytes'])))
    w = max(len(a) for a, _, _ in rows)
    for a, b, c in rows:
        print(f"  {a:<{w}}  {b:<48} {c}")


if __name__ == "__main__":
    main()
