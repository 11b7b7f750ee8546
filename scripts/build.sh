#!/usr/bin/env bash
# Configures and builds bentov into build/ (Release). Extra arguments go to cmake's configure;
# BENTOV_BUILD_TARGET builds one target (and what it needs) instead of everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BENTOV_BUILD_DIR:-build}
gen=()
command -v ninja >/dev/null 2>&1 && [[ ! -f "$BUILD_DIR/Makefile" ]] && gen=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
target=()
[[ -n ${BENTOV_BUILD_TARGET:-} ]] && target=(--target "$BENTOV_BUILD_TARGET")
cmake --build "$BUILD_DIR" "${target[@]}" -j "$(nproc)"
