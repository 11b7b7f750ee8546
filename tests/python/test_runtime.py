"""The engine runs without the GIL, reports progress, and stops cleanly on errors and Ctrl-C."""
import os
import signal
import threading
import time

import pytest

import bentov
from conftest import DEMO, run_python

LONG_TEXTS = ["It is the east, and Juliet is the sun. " * 6 + str(i) for i in range(60)]


def test_a_heartbeat_thread_keeps_ticking_during_a_run():
    ticks = []
    stop = threading.Event()

    def beat():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    thread = threading.Thread(target=beat, daemon=True)
    # No callbacks at all: any tick during the call proves the GIL was released by the engine.
    thread.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    bentov.corpus(DEMO, LONG_TEXTS, bootstrap=10, progress=False)
    t1 = time.perf_counter()
    stop.set()
    thread.join()
    during = [t for t in ticks if t0 < t < t1]
    assert t1 - t0 > 0.1, "the run was too short to tell"
    gaps = [b - a for a, b in zip([t0] + during, during + [t1])]
    assert len(during) > 0.3 * (t1 - t0) / 0.002 * 0.5 and max(gaps) < 0.5, (len(during), max(gaps))


def test_progress_callable_sees_models_and_texts():
    events = []
    bentov.corpus(DEMO[:2], LONG_TEXTS[:5], bootstrap=10, progress=lambda *e: events.append(e))
    texts = [e for e in events if e[0] == "text"]
    models = [e for e in events if e[0] == "model"]
    assert [e[1:3] for e in models] == [(1, 2), (2, 2)]
    assert [(e[1], e[2]) for e in texts] == [(i, 5) for i in range(1, 6)] * 2
    assert {e[3] for e in texts} == {"gpt2-demo", "opt-demo"}


def test_progress_bars_run(capsys):
    bentov.corpus(DEMO, LONG_TEXTS[:3], bootstrap=10, progress=True)
    bentov.analyze(DEMO, progress=True)
    assert "models" in capsys.readouterr().err


def test_an_exception_from_progress_ends_the_run():
    class Stop(Exception):
        pass

    seen = []

    def progress(stage, done, total, name):
        seen.append(stage)
        if stage == "text" and done == 2:
            raise Stop("from the callback")

    with pytest.raises(Stop, match="from the callback"):
        bentov.corpus(DEMO, LONG_TEXTS, bootstrap=10, progress=progress)
    assert seen.count("text") == 2
    with pytest.raises(Stop):
        bentov.analyze(DEMO, progress=lambda *e: (_ for _ in ()).throw(Stop("model")))


def test_ctrl_c_stops_a_corpus_run(tmp_path):
    out = tmp_path / "never.json"
    code = f"""
import sys, bentov
texts = ["It is the east, and Juliet is the sun. " * 12 + str(i) for i in range(100000)]
def progress(stage, done, total, name):
    if stage == "text" and done == 1:
        print("running", flush=True)
try:
    bentov.corpus({DEMO!r}, texts, bootstrap=10, progress=progress).to_json({str(out)!r})
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
"""
    child = run_python(code)
    assert child.stdout.readline().strip() == "running"
    time.sleep(0.2)
    t0 = time.monotonic()
    child.send_signal(signal.SIGINT)
    rest, err = child.communicate(timeout=60)
    assert child.returncode == 3, (child.returncode, rest, err)
    assert "interrupted" in rest
    assert time.monotonic() - t0 < 10
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".bentov-")]
