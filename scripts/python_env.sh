#!/usr/bin/env bash
# The Python environment bentov's Python package is built and tested in: a virtual environment
# (BENTOV_VENV, default .venv in the checkout) with python/requirements-dev.txt from PyPI.
# Prints the environment's python on stdout; everything else goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${BENTOV_VENV:-.venv}
python=${BENTOV_PYTHON_EXE:-python3}
if [[ ! -x $venv/bin/python ]]; then
  "$python" -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements-dev.txt >&2
echo "$(cd "$venv" && pwd)/bin/python"
