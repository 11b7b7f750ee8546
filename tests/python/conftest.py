"""pytest fixtures: the demo models, the CLI built beside the package, temporary output."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")
DEMO = [os.path.join(ROOT, "models", d) for d in ("gpt2-demo", "opt-demo", "pythia-demo")]
SENTENCES = os.path.join(DATA, "corpus", "sentences.txt")
# Two checkpoints of one shape (compare needs them): the same recipe, other weights.
PAIR = [os.path.join(DATA, "fixtures", d) for d in ("pythia-hub", "pythia-hub-torchbin")]
PAIR_IDS = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38]

os.environ.setdefault("MPLBACKEND", "Agg")
# Subprocesses (the notebook's kernel, the Ctrl-C child) run elsewhere: give them absolute paths.
os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)


def cli_path():
    exe = os.environ.get("BENTOV_CLI") or os.path.join(ROOT, os.environ.get("BENTOV_BUILD_DIR", "build"), "bentov")
    if not os.path.isfile(exe):
        pytest.skip(f"no bentov CLI at {exe} (set BENTOV_CLI)")
    return exe


@pytest.fixture(scope="session")
def cli():
    """Runs the CLI; returns its stdout. Fails the test on a non-zero exit."""
    exe = cli_path()

    def run(*args):
        p = subprocess.run([exe, *args], capture_output=True, text=True)
        assert p.returncode == 0, f"bentov {' '.join(args)} exited {p.returncode}: {p.stderr}"
        return p.stdout

    return run


@pytest.fixture(scope="session")
def cli_json(cli, tmp_path_factory):
    """The JSON file a CLI command writes (--json / --out), parsed."""
    def run(*args, name="results.json"):
        out = tmp_path_factory.mktemp("cli")
        cli(*args, "--quiet", "--json", str(out / name))
        with open(out / name, encoding="utf-8") as f:
            return json.load(f)
    return run


def without_timings(d):
    """The JSON with anything machine-dependent removed (none today; kept for safety)."""
    return d


def run_python(code, **kw):
    """A fresh interpreter running `code` with this test run's sys.path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)
