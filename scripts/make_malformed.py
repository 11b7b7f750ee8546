#!/usr/bin/env python3
"""Writes tests/data/malformed/*.safetensors: one hand-built file per failure class of the
safetensors reader (truncation, lying header length, bad JSON, unknown dtype, size mismatch,
offsets past the end or reversed, overlap, overflowing or negative shapes, missing fields)."""
import json
import os
import struct
import sys


def st(header, data=b"", hlen=None, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(h) if hlen is None else hlen
    return struct.pack("<Q", n) + h + data


GOOD = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
CASES = {
    "truncated_length": b"\x10\x00\x00",
    "header_length_lies": st(GOOD, b"\0" * 16, hlen=10**6),
    "header_length_huge": st(GOOD, b"\0" * 16, hlen=2**62),
    "header_not_json": st(None, raw_header=b'{"a": [1, 2'),
    "header_not_object": st([1, 2, 3]),
    "unknown_dtype": st({"a": {"dtype": "F8_E9", "shape": [2], "data_offsets": [0, 2]}}, b"\0" * 2),
    "size_mismatch": st({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}, b"\0" * 16),
    "offsets_past_end": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
    "offsets_reversed": st({"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}, b"\0" * 8),
    "overlap": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 16),
    "shape_overflow": st({"a": {"dtype": "F32", "shape": [2**62, 2**62, 16], "data_offsets": [0, 16]}}, b"\0" * 16),
    "negative_dim": st({"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, b"\0" * 16),
    "missing_offsets": st({"a": {"dtype": "F32", "shape": [4]}}, b"\0" * 16),
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data", "malformed")
    os.makedirs(out, exist_ok=True)
    for name, data in CASES.items():
        with open(os.path.join(out, name + ".safetensors"), "wb") as f:
            f.write(data)
    print(f"wrote {len(CASES)} files to {out}")
