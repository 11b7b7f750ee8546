#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, build-fuzz/) and runs them.
# Usage: scripts/fuzz.sh TARGET|all SECONDS [extra libFuzzer flags]
#   targets: fuzz_safetensors fuzz_config fuzz_tokenizer_files fuzz_encode
# `all` runs every target for SECONDS each, as many at a time as there are cores.
# Seeds come from tests/fuzz/corpus/<target>/ (committed, read-only here); what the fuzzer
# learns goes to build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/<target>/ and
# the log to build-fuzz/logs/<target>.log. Exits non-zero when any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGETS=(fuzz_safetensors fuzz_config fuzz_tokenizer_files fuzz_encode)
target="${1:?usage: scripts/fuzz.sh TARGET|all SECONDS}"
secs="${2:?usage: scripts/fuzz.sh TARGET|all SECONDS}"
shift 2
build="${BENTOV_FUZZ_BUILD_DIR:-build-fuzz}"
cxx="${CXX:-$(command -v clang++ || command -v clang++-14)}"
gen=()
command -v ninja >/dev/null 2>&1 && [[ ! -f "$build/Makefile" ]] && gen=(-G Ninja)
# A build dir already configured with BENTOV_FUZZ=ON (scripts/test.sh's build-asan) is reused
# as it is; otherwise configure one for the fuzzers alone.
if ! grep -qs '^BENTOV_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake -S . -B "$build" "${gen[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBENTOV_FUZZ=ON -DBENTOV_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${TARGETS[@]}"

run_one() {  # target seconds extra...
  local t="$1" s="$2"
  shift 2
  local work="$build/corpus/$t" art="$build/artifacts/$t/" log="$build/logs/$t.log"
  mkdir -p "$work" "$art" "$(dirname "$log")"
  echo "fuzz: $t for ${s}s (log $log)"
  local rc=0
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/$t" -max_total_time="$s" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$art" "$@" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  local stats
  stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1 || true)
  local execs
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  if ((rc != 0)); then
    echo "fuzz: $t FAILED (rc $rc), artifacts in $art; tail of $log:"
    tail -n 40 "$log"
    return 1
  fi
  echo "fuzz: $t ok: ${execs:-?} executions; last status: $stats"
}

if [[ "$target" == all ]]; then
  export -f run_one
  export build
  printf '%s\n' "${TARGETS[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_one "$@"' _ {} "$secs" "$@"
else
  run_one "$target" "$secs" "$@"
fi
