"""Model.attention: TransformerLens names, float32 (head, q, k), zero-copy, outliving the model."""
import gc
import json
import struct

import numpy as np
import pytest

import bentov
from conftest import DEMO

TEXT = "It is the east, and Juliet is the sun."


def read_safetensors(path):
    """{name: array} of a safetensors file (F32 and I64 only: what `bentov attention` writes)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        out[name] = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=dtype).reshape(info["shape"])
    return out


def test_patterns_equal_the_cli_dump(cli, tmp_path):
    for folder in DEMO:
        cli("attention", folder, "--text", TEXT, "--out", str(tmp_path / "a.safetensors"), "--quiet")
        want = read_safetensors(tmp_path / "a.safetensors")
        model = bentov.load(folder)
        got = model.attention(text=TEXT)
        assert sorted(got) == sorted(f"blocks.{l}.attn.hook_pattern" for l in range(model.n_layers))
        for l in range(model.n_layers):
            a = got[f"blocks.{l}.attn.hook_pattern"]
            assert a.dtype == np.float32 and a.shape == (model.n_heads, len(want["input_ids"]), len(want["input_ids"]))
            np.testing.assert_array_equal(a, want[f"blocks.{l}.attn.pattern"])


def test_arrays_are_zero_copy_and_outlive_the_model():
    model = bentov.load(DEMO[2])
    patterns = model.attention(text=TEXT, layers=[0, -1])
    assert sorted(patterns) == ["blocks.0.attn.hook_pattern", f"blocks.{model.n_layers - 1}.attn.hook_pattern"]
    a = patterns["blocks.0.attn.hook_pattern"]
    # numpy does not own the buffer: the engine's, kept alive by a capsule (no copy was made).
    assert not a.flags.owndata
    assert type(a.base).__name__ == "PyCapsule"
    assert a.flags.c_contiguous and a.flags.writeable
    address = a.__array_interface__["data"][0]
    view = a[1]
    assert view.__array_interface__["data"][0] == address + a.strides[0]
    snapshot = a.copy()
    del model, patterns
    gc.collect()
    [bentov.load(DEMO[0]).attention(text=TEXT * 3) for _ in range(3)]  # reuse freed memory if it was freed
    gc.collect()
    np.testing.assert_array_equal(a, snapshot)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(np.triu(a, k=1) == 0)


def test_ids_layers_and_bad_arguments():
    model = bentov.load(DEMO[0])
    ids = model.tokenize(TEXT)
    by_ids = model.attention(ids=ids, layers=[3])
    by_text = model.attention(text=TEXT, layers=[3])
    np.testing.assert_array_equal(by_ids["blocks.3.attn.hook_pattern"], by_text["blocks.3.attn.hook_pattern"])
    with pytest.raises(bentov.UsageError) as e:
        model.attention(text=TEXT, layers=[model.n_layers])
    assert "layer" in str(e.value) and e.value.hint
    with pytest.raises(bentov.UsageError):
        model.attention(text=TEXT, ids=ids)
    with pytest.raises(bentov.UsageError):
        model.attention()


def test_attention_too_large_for_memory_is_refused(monkeypatch):
    monkeypatch.setenv("BENTOV_MEMORY_LIMIT", "64K")
    model = bentov.load(DEMO[0])
    with pytest.raises(bentov.InputError) as e:
        model.attention(ids=list(range(100)))
    assert "memory" in str(e.value) and "layers" in e.value.hint
