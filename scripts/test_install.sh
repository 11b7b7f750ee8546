#!/usr/bin/env bash
# Installs the built bentov into a temporary prefix and checks that `bentov analyze` with no
# MODEL finds the demo models there (share/bentov/models), away from the source tree.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BENTOV_BUILD_DIR:-build}
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$BUILD_DIR" --prefix "$prefix" >/dev/null
test -f "$prefix/share/bentov/models/gpt2-demo/config.json"
(cd "$work" && BENTOV_MODELS_DIR= "$prefix/bin/bentov" analyze --quiet --out "$work/out" > "$work/table.txt")
grep -q "gpt2-demo" "$work/table.txt"
grep -q "pythia-demo" "$work/table.txt"
grep -q "opt-demo" "$work/table.txt"
grep -q "Mean deviation:" "$work/table.txt"
test -s "$work/out/bentov_point_analysis.png"
echo "test_install: installed bentov analyzed the three demo models from $prefix/share/bentov/models"
