#!/usr/bin/env bash
# Tokenizer throughput on tinyshakespeare, pinned to one core (bench/tokenizer_bench.cpp).
# Usage: scripts/bench_tokenizer.sh [BUILD_DIR]   (default build-bench)
# Compare with Hugging Face on the same machine:
#   taskset -c 0 env RAYON_NUM_THREADS=1 python3 scripts/gen_tokenizer_vectors.py ../shared/data /tmp --bench
#
# Measured side by side on the device machine (Intel Xeon, one core via taskset -c 0), tinyshakespeare:
#   bentov warm cache  gpt2 18.3 MB/s 5.53 Mtok/s | pythia 16.3 MB/s 4.98 Mtok/s | opt 20.2 MB/s 6.13 Mtok/s
#   bentov cold cache  gpt2 12.2 MB/s 3.69 Mtok/s | pythia 11.8 MB/s 3.59 Mtok/s | opt 11.2 MB/s 3.39 Mtok/s
#   HF tokenizers 0.23.2 (encode of the whole text / encode_batch of its lines, best of 3)
#                      gpt2 0.82/0.88 MB/s        | pythia 0.99/0.74 MB/s        | opt 0.78/1.09 MB/s
#
# The Llama-family tokenizers, side by side on the development machine (AMD EPYC, 2 cores shared,
# one core via taskset -c 0), tinyshakespeare; bentov cold cache (a fresh tokenizer per run):
#   bentov  llama2 1.80 MB/s 0.58 Mtok/s | llama3 7.40 MB/s 2.00 Mtok/s | qwen3 8.99 MB/s 2.43 Mtok/s
#   bentov warm cache: llama2 1.62 MB/s (one run: the whole text is one word) | llama3 26.6 MB/s | qwen3 31.5 MB/s
#   HF tokenizers 0.23.3, the pipeline AutoTokenizer builds (encode of the whole text / encode_batch of its lines)
#           llama2 0.62/1.42 MB/s        | llama3 1.07/1.29 MB/s        | qwen3 0.96/0.96 MB/s
#   (same run: bentov gpt2 15.3 MB/s cold; HF gpt2 1.25/1.56 MB/s)
# Llama 2 has no pre-tokenizer (Metaspace with split=false): BPE runs on the whole text at once.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-bench}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTOV_BUILD_BENCH=ON -DBENTOV_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bentov_bench >/dev/null
pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
"${pin[@]}" "$build/bentov_bench" --benchmark_filter='BM_Encode' "${@:2}"
