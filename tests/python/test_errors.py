"""Errors become bentov.Error subclasses with the engine's message and hint."""
import json
import os

import pytest

import bentov
from conftest import DATA, DEMO


def test_hierarchy():
    for cls in (bentov.UsageError, bentov.FileError, bentov.InputError, bentov.ModelError, bentov.FormatError,
                bentov.ConfigError, bentov.UnsupportedError):
        assert issubclass(cls, bentov.Error)
    for cls in (bentov.FormatError, bentov.ConfigError, bentov.UnsupportedError):
        assert issubclass(cls, bentov.ModelError)


def test_missing_model_is_a_file_error():
    with pytest.raises(bentov.FileError) as e:
        bentov.load("/nonexistent/model")
    assert "/nonexistent/model" in e.value.message and e.value.hint
    with pytest.raises(bentov.FileError):
        bentov.analyze("/nonexistent/model", progress=False)


def test_too_few_tokens_is_an_input_error():
    with pytest.raises(bentov.InputError) as e:
        bentov.analyze(DEMO[0], ids=[5], progress=False)
    assert "at least 2" in e.value.message
    with pytest.raises(bentov.InputError):
        bentov.analyze(DEMO[0], ids=[10 ** 6, 3], progress=False)  # outside the vocabulary


def test_bad_checkpoints_raise_the_cli_message():
    """Every malformed checkpoint the CLI tests (tests/data/malformed/cases.json) fails to load
    from Python with the same message, as a bentov.Error subclass."""
    with open(os.path.join(DATA, "malformed", "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    root = os.path.join(DATA, "malformed", "checkpoints")
    kinds = set()
    checked = 0
    for case in cases:
        words = case["command"].split()
        if words[0] != "info" or case["rc"] == 0:
            continue
        with pytest.raises(bentov.Error) as e:
            bentov.load(words[1].replace("{ck}", root))
        assert case["message"] in e.value.message, case["name"]
        assert "\n" not in e.value.message
        kinds.add(type(e.value))
        checked += 1
    assert checked >= 10
    assert kinds & {bentov.FormatError, bentov.ConfigError, bentov.UnsupportedError}


def test_usage_errors():
    with pytest.raises(bentov.UsageError):
        bentov.analyze(DEMO[0], text="a b", ids=[1, 2], progress=False)
    with pytest.raises(bentov.UsageError):
        bentov.analyze(DEMO[0], threads=0, progress=False)
    with pytest.raises(bentov.UsageError):
        bentov.analyze(DEMO[0], device="tpu", progress=False)
    with pytest.raises(bentov.UsageError):
        bentov.corpus(DEMO[0], ["a text here"], bootstrap=0, progress=False)
    with pytest.raises(bentov.UsageError):
        bentov.sweep([DEMO[0]], progress=False)


def test_no_gpu_is_unsupported():
    if bentov.cuda_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(bentov.UnsupportedError) as e:
        bentov.analyze(DEMO[0], device="cuda", progress=False)
    assert e.value.hint


def test_empty_corpus_is_an_input_error():
    with pytest.raises(bentov.InputError):
        bentov.corpus(DEMO[0], ["", "   "], progress=False)


def test_result_from_bad_json():
    with pytest.raises(bentov.UsageError):
        bentov.Result.from_json("{not json")
    with pytest.raises(bentov.FileError):
        bentov.Result.from_json("/nonexistent/results.json")


def test_fp16_needs_a_gpu():
    with pytest.raises(bentov.UsageError) as e:
        bentov.analyze(DEMO[2], dtype="fp16", device="cpu", progress=False)
    assert e.value.hint
    with pytest.raises(bentov.UsageError):
        bentov.analyze(DEMO[2], dtype="fp8", progress=False)


def test_max_positions_extends_a_rotary_model_with_a_warning():
    ids = [(7 * i) % 4000 + 1 for i in range(520)]  # past pythia-demo's 512 positions
    with pytest.raises(bentov.InputError) as e:
        bentov.analyze(DEMO[2], ids=ids, progress=False)
    assert "--max-positions" in e.value.hint
    with pytest.warns(UserWarning, match="max_position_embeddings"):
        r = bentov.analyze(DEMO[2], ids=ids, max_positions=520, progress=False)
    assert len(r.models[0]["token_ids"]) == 520


def test_max_positions_is_refused_by_learned_positions():
    with pytest.raises(bentov.UsageError) as e:
        bentov.analyze(DEMO[0], ids=[1, 2, 3], max_positions=1024, progress=False)
    assert "learns its position embeddings" in e.value.message


def test_bf16_on_the_cpu_runs_where_built_with_onednn():
    try:
        got = bentov.analyze(DEMO[2], dtype="bf16", device="cpu", progress=False)
    except bentov.UnsupportedError as e:  # a build without oneDNN says how to get it
        assert "oneDNN" in str(e) and e.hint
        pytest.skip("built without oneDNN")
    exact = bentov.analyze(DEMO[2], progress=False)
    got_layers, exact_layers = got.models[0]["layers"], exact.models[0]["layers"]
    assert len(got_layers) == len(exact_layers)
    for b, f in zip(got_layers, exact_layers):
        assert b["locality"] == pytest.approx(f["locality"], rel=1e-2)
        assert b["entropy"] == pytest.approx(f["entropy"], rel=1e-2)
