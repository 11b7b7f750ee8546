#!/usr/bin/env bash
# Side by side: bentov (scripts/bench.py) and the notebook's stack, transformers
# (scripts/bench_transformers.py), on the same random-weight checkpoints with the real shapes,
# each command pinned to the same cores; then the ratios (scripts/side_by_side.py).
#
# Run where torch and transformers are installed:
#   scripts/side_by_side.sh [BUILD_DIR] [OUT_DIR]
# BUILD_DIR holds bentov, bentov_make_model and bentov_bench (built with -DBENTOV_BUILD_BENCH=ON
# when missing); OUT_DIR receives bentov.json, transformers.json and side_by_side.txt.
# BENTOV_BENCH_CPUS (default 0,1) and BENTOV_BENCH_REPEAT (default 3) tune the runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-bench}
out=${2:-/tmp/bentov-side-by-side}
cpus=${BENTOV_BENCH_CPUS:-0,1}
mkdir -p "$out"
python3 "$here/bench.py" --build "$build" --cpus "$cpus" --repeat "${BENTOV_BENCH_REPEAT:-3}" \
  --json "$out/bentov.json"
python3 "$here/bench_transformers.py" --cpus "$cpus" --json "$out/transformers.json"
python3 "$here/side_by_side.py" "$out/bentov.json" "$out/transformers.json" | tee "$out/side_by_side.txt"
