#!/usr/bin/env bash
# The main job on a fresh Debian machine: install dependencies, build, and analyze the three
# demo models shipped in models/ on the notebook's sentence, writing out/ (results.json,
# layers.csv, bentov_point_analysis.png) and printing the summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Only the CLI and the library it links: the test suite is not needed to analyze.
BENTOV_BUILD_TARGET=bentov scripts/build.sh
./build/bentov analyze --out out "$@"
