#!/usr/bin/env bash
# `pip install .` into a fresh virtual environment, as a user would, then the installed package
# (away from the source tree) on the demo models it ships: the Python API's JSON against the
# installed `bentov` command's. BENTOV_PIP_CMAKE_ARGS goes to CMake (CI: -DBENTOV_CUDA=OFF, since
# the CUDA build is tested elsewhere and doubles the time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
CMAKE_ARGS=${BENTOV_PIP_CMAKE_ARGS:-} "$work/venv/bin/pip" install -q --disable-pip-version-check "$root"
cd "$work"
"$work/venv/bin/bentov" analyze --quiet --json "$work/cli.json" > "$work/table.txt"
grep -q "Mean deviation:" "$work/table.txt"
"$work/venv/bin/python" - "$work/cli.json" <<'PY'
import json, sys
import bentov
assert "site-packages" in bentov.__file__, bentov.__file__
result = bentov.analyze(progress=False)
with open(sys.argv[1]) as f:
    cli = json.load(f)
assert json.loads(result.to_json()) == cli, "the installed package and the installed CLI disagree"
assert list(result.layers.columns[:3]) == ["model", "revision", "layer"]
model = bentov.load(bentov.demo_models()[0])
assert model.attention(text="Hello world")["blocks.0.attn.hook_pattern"].shape[0] == model.n_heads
print("test_pip_install: pip install . gave a working package:", ", ".join(result.l_star["model"]))
PY
