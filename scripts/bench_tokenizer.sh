#!/usr/bin/env bash
# Tokenizer throughput on tinyshakespeare, pinned to one core (bench/tokenizer_bench.cpp).
# Usage: scripts/bench_tokenizer.sh [BUILD_DIR]   (default build-bench)
# Compare with Hugging Face on the same machine:
#   taskset -c 0 env RAYON_NUM_THREADS=1 python3 scripts/gen_tokenizer_vectors.py ../shared/data /tmp --bench
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTOV_BUILD_BENCH=ON -DBENTOV_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bentov_bench >/dev/null
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$build/bentov_bench" --benchmark_filter='BM_Encode' "${@:2}"
