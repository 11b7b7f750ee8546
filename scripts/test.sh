#!/usr/bin/env bash
# Installs dependencies, builds (warnings are errors) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DBENTOV_WERROR=ON -DBENTOV_BUILD_TESTS=ON
ctest --test-dir "${BENTOV_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
