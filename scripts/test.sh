#!/usr/bin/env bash
# What CI runs (.ci/run), on a fresh Debian 12: installs dependencies, then
#   1. builds in Release with warnings as errors (build/) and runs the whole test suite;
#   2. builds again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/) and runs
#      the whole suite there (every CLI test then also proves "no sanitizer report");
#   3. builds the libFuzzer targets with clang (build-fuzz/) and runs each for
#      BENTOV_FUZZ_SECONDS (default 20) from its committed seed corpus.
# BENTOV_TEST_STAGES picks stages (default "release asan fuzz").
set -euo pipefail
cd "$(dirname "$0")/.."
stages="${BENTOV_TEST_STAGES:-release asan fuzz}"
scripts/install-deps.sh
t0=$SECONDS
stamp() { echo "test.sh: $1 done after $((SECONDS - t0)) s"; }

if [[ " $stages " == *" release "* ]]; then
  scripts/build.sh -DBENTOV_WERROR=ON -DBENTOV_BUILD_TESTS=ON
  ctest --test-dir "${BENTOV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
  stamp release
fi

if [[ " $stages " == *" asan "* ]]; then
  # -O1 keeps the sanitized build and run quick; every UBSan finding is fatal (BENTOV_SANITIZE).
  BENTOV_BUILD_DIR=build-asan scripts/build.sh -DBENTOV_WERROR=ON -DBENTOV_BUILD_TESTS=ON \
    -DBENTOV_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG"
  ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
  stamp asan
fi

if [[ " $stages " == *" fuzz "* ]]; then
  scripts/fuzz.sh all "${BENTOV_FUZZ_SECONDS:-20}"
  stamp fuzz
fi
