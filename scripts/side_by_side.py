#!/usr/bin/env python3
"""Prints bentov-vs-transformers ratios from the JSON of scripts/bench.py and
scripts/bench_transformers.py (run on the same machine, pinned to the same cores):
    scripts/side_by_side.py bentov.json transformers.json"""
import json
import sys


def main():
    b = json.load(open(sys.argv[1]))["runs"]
    t = json.load(open(sys.argv[2]))["runs"]
    rows = [("notebook job (4 models x sentence), wall",
             t["notebook_job"]["wall_s"], b["notebook_job"]["wall_s"], "s", "lower")]
    for n in (128, 512, 2048):
        rows.append((f"pythia-160m n={n}: tokens/s, forward + metrics (load excluded on both sides)",
                     t[f"pythia-160m_n{n}"]["tokens_per_s"], b[f"analyze_pythia-160m_n{n}"]["tokens_per_s_steady"],
                     "tok/s", "higher"))
        rows.append((f"pythia-160m n={n}: tokens/s, transformers load excluded, bentov end to end",
                     t[f"pythia-160m_n{n}"]["tokens_per_s"], b[f"analyze_pythia-160m_n{n}"]["tokens_per_s"],
                     "tok/s", "higher"))
    rows.append(("pythia-410m n=2048: peak RSS", t["pythia-410m_n2048"]["peak_rss_bytes"] / 2**30,
                 b["analyze_pythia-410m_n2048"]["peak_rss_bytes"] / 2**30, "GiB", "lower"))
    rows.append(("pythia-410m n=2048: process wall (import + load + forward + metrics)", t["pythia-410m_n2048"]["process_wall_s"],
                 b["analyze_pythia-410m_n2048"]["wall_s"], "s", "lower"))
    w = max(len(r[0]) for r in rows)
    print(f"{'job':<{w}} {'transformers':>18} {'bentov':>10}  bentov's advantage")
    for name, tv, bv, unit, better in rows:
        ratio = tv / bv if better == "lower" else bv / tv
        print(f"{name:<{w}} {tv:>10.2f} {unit:<7} {bv:>10.2f}  {ratio:.1f}x")


if __name__ == "__main__":
    main()
