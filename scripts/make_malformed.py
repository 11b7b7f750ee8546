#!/usr/bin/env python3
"""Writes tests/data/malformed/: one case per failure class bentov must refuse cleanly.

- *.safetensors: hand-built files for the safetensors reader (truncation, lying header
  length, bad JSON, unknown dtype, size mismatch, offsets past the end or reversed, overlap,
  overflowing or negative shapes, missing fields, duplicate names).
- checkpoints/<case>/: tiny GPT-2 checkpoint folders (config.json, model.safetensors or shards,
  vocab.json + merges.txt) derived from one valid checkpoint, `checkpoints/valid`, each with
  one thing broken: config.json missing/malformed/absurd, shards escaping the folder,
  duplicate or overlapping tensors, tokenizer files missing/malformed/inconsistent.
- texts/: input texts (invalid UTF-8, empty, one token, too many tokens).
- cases.json: the manifest tests/unit/malformed_cli_test.cpp replays: for each case the
  bentov command line ({ck} = checkpoints/, {texts} = texts/, {out} = a scratch folder),
  the expected exit code and a fragment of the one-line error.
Also writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/).
Pure standard library; deterministic output. Usage: scripts/make_malformed.py [OUT_DIR]
"""
import json
import os
import random
import shutil
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def st(header, data=b"", hlen=None, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    n = len(h) if hlen is None else hlen
    return struct.pack("<Q", n) + h + data


GOOD = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
FILES = {
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
    "duplicate_name": st(None, b"\0" * 32, raw_header=(
        b'{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, '
        b'"a": {"dtype": "F32", "shape": [4], "data_offsets": [16, 32]}}')),
}

# ---- a tiny valid GPT-2 checkpoint with a byte-level BPE tokenizer ----

D, HEADS, LAYERS, POSITIONS = 8, 2, 2, 16


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (tokenizers' ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()
VOCAB = {BYTE_CHARS[b]: b for b in range(256)}
MERGES = [("h", "e"), ("\u0120", "t"), ("\u0120t", "he")]
for a, b in MERGES:
    VOCAB[a + b] = len(VOCAB)
VOCAB["<|endoftext|>"] = len(VOCAB)
V = len(VOCAB)

CONFIG = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": LAYERS,
    "n_head": HEADS, "n_embd": D, "n_positions": POSITIONS, "vocab_size": V,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "torch_dtype": "float32",
}


def gpt2_tensors(layers=LAYERS):
    shapes = {"wte.weight": [V, D], "wpe.weight": [POSITIONS, D], "ln_f.weight": [D], "ln_f.bias": [D]}
    for l in range(layers):
        p = f"h.{l}."
        shapes.update({p + "ln_1.weight": [D], p + "ln_1.bias": [D], p + "ln_2.weight": [D], p + "ln_2.bias": [D],
                       p + "attn.c_attn.weight": [D, 3 * D], p + "attn.c_attn.bias": [3 * D],
                       p + "attn.c_proj.weight": [D, D], p + "attn.c_proj.bias": [D],
                       p + "mlp.c_fc.weight": [D, 4 * D], p + "mlp.c_fc.bias": [4 * D],
                       p + "mlp.c_proj.weight": [4 * D, D], p + "mlp.c_proj.bias": [D]})
    rng = random.Random(7)
    out = {}
    for name, shape in shapes.items():
        n = 1
        for s in shape:
            n *= s
        vals = [1.0 + rng.uniform(-0.1, 0.1) if name.endswith("ln_1.weight") or "ln_" in name and name.endswith("weight")
                else rng.gauss(0, 0.3) for _ in range(n)]
        out[name] = ("F32", shape, struct.pack(f"<{n}f", *vals))
    return out


def safetensors_bytes(tensors, header_extra=None):
    header, data, off = {}, b"", 0
    for name in sorted(tensors):
        dtype, shape, payload = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(payload)]}
        data += payload
        off += len(payload)
    if header_extra:
        header.update(header_extra)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def write_checkpoint(folder, config=CONFIG, weights=True, tokenizer=True):
    if config is not None:
        write(os.path.join(folder, "config.json"), config if isinstance(config, (str, bytes)) else json.dumps(config, indent=1))
    if weights:
        write(os.path.join(folder, "model.safetensors"), safetensors_bytes(gpt2_tensors()))
    if tokenizer:
        write(os.path.join(folder, "vocab.json"), json.dumps(VOCAB, ensure_ascii=False))
        write(os.path.join(folder, "merges.txt"), "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES))


def write_sharded(folder, index, shards):
    write_checkpoint(folder, weights=False)
    write(os.path.join(folder, "model.safetensors.index.json"), index if isinstance(index, str) else json.dumps(index))
    for name, data in shards.items():
        write(os.path.join(folder, name), data)


def split_shards():
    t = gpt2_tensors()
    names = sorted(t)
    half = len(names) // 2
    a = {n: t[n] for n in names[:half]}
    b = {n: t[n] for n in names[half:]}
    wm = {n: "model-00001-of-00002.safetensors" for n in a}
    wm.update({n: "model-00002-of-00002.safetensors" for n in b})
    return a, b, wm


def with_config(**changes):
    c = dict(CONFIG)
    for k, v in changes.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


# case name -> (how to build its folder, command, expected exit code, stderr fragment)
# Commands use {ck}/<case> for the folder, {texts}/<file>, {out}/ for outputs.
CHECKPOINTS = {}
CASES = []


def case(name, build, command, rc, message):
    if build is not None:
        CHECKPOINTS[name] = build
    CASES.append({"name": name, "command": command, "rc": rc, "message": message})


def ck_case(name, build, rc, message, command="info {ck}/%s"):
    case(name, build, command % name, rc, message)


def build_all(out):
    ck = os.path.join(out, "checkpoints")
    if os.path.isdir(ck):
        shutil.rmtree(ck)
    for name, build in CHECKPOINTS.items():
        build(os.path.join(ck, name))


def weights_with(mutate):
    def build(folder):
        write_checkpoint(folder, weights=False)
        t = gpt2_tensors()
        write(os.path.join(folder, "model.safetensors"), mutate(t))
    return build


# The valid control: every command succeeds on it.
case("valid_info", lambda f: write_checkpoint(f), "info {ck}/valid_info", 0, "")
case("valid_analyze", None, "analyze {ck}/valid_info --quiet --text 'the theory' --out {out}", 0, "")
case("valid_attention", None, "attention {ck}/valid_info --quiet --text 'hello there' --out {out}/a.safetensors", 0, "")
case("valid_tokenize", None, "tokenize {ck}/valid_info --text 'the he'", 0, "")
case("valid_tokenize_empty", None, "tokenize {ck}/valid_info --text-file {texts}/empty.txt", 0, "")

# config.json
ck_case("config_missing", lambda f: write_checkpoint(f, config=None), 3, "config.json' does not exist")
ck_case("config_malformed", lambda f: write_checkpoint(f, config='{"model_type": "gpt2", "n_layer": 2,'), 3, "is not valid JSON")
ck_case("config_not_object", lambda f: write_checkpoint(f, config="[1, 2, 3]"), 3, "is not a JSON object")
ck_case("config_zero_heads", lambda f: write_checkpoint(f, config=with_config(n_head=0)), 3, "'n_head' must be positive")
ck_case("config_heads_not_divisor", lambda f: write_checkpoint(f, config=with_config(n_head=3)), 3, "not divisible by 3 heads")
ck_case("config_negative_size", lambda f: write_checkpoint(f, config=with_config(n_embd=-8)), 3, "'n_embd' must be positive")
ck_case("config_huge_layers", lambda f: write_checkpoint(f, config=with_config(n_layer=10**12)), 3, "'n_layer' is absurdly large")
ck_case("config_float_layers", lambda f: write_checkpoint(f, config=with_config(n_layer=1e300)), 3, "'n_layer' is not an integer")
ck_case("config_number_overflow", lambda f: write_checkpoint(f, config=json.dumps(CONFIG)[:-1] + ', "x": 1e999}'), 3,
        "is not valid JSON (a number out of range)")
ck_case("config_string_size", lambda f: write_checkpoint(f, config=with_config(n_embd="8")), 3, "'n_embd' is not an integer")
ck_case("config_missing_key", lambda f: write_checkpoint(f, config=with_config(vocab_size=None)), 3, "'vocab_size' is missing")
ck_case("config_unknown_arch", lambda f: write_checkpoint(f, config=with_config(model_type="mamba")), 3, "unsupported architecture")
ck_case("config_huge_hidden", lambda f: write_checkpoint(f, config=with_config(n_embd=131072, n_head=1024, vocab_size=4000000)),
        3, "has shape [%d, %d], expected [4000000, 131072]" % (V, D))
ck_case("config_more_layers_than_weights", lambda f: write_checkpoint(f, config=with_config(n_layer=3)), 3,
        "tensor 'h.2.ln_1.weight' is missing")

# weights
ck_case("weights_missing", lambda f: write_checkpoint(f, weights=False), 3, "no model.safetensors")
ck_case("weights_truncated", lambda f: (write_checkpoint(f), open(os.path.join(f, "model.safetensors"), "r+b").truncate(4000)),
        3, "past the end of the data")
ck_case("weights_wrong_dtype", weights_with(lambda t: safetensors_bytes(
    {**t, "wpe.weight": ("I32", [POSITIONS, D], t["wpe.weight"][2])})), 3, "has dtype I32")
ck_case("weights_overlap", weights_with(lambda t: safetensors_bytes(t, {"zz": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})),
        3, "overlap")
def duplicate_name(t):
    """ln_f.bias renamed ln_f.weight: the header names one tensor twice (JSON allows it)."""
    b = safetensors_bytes(t)
    n = struct.unpack("<Q", b[:8])[0]
    h = b[8:8 + n].replace(b'"ln_f.bias"', b'"ln_f.weight"', 1)
    return struct.pack("<Q", len(h)) + h + b[8 + n:]


ck_case("weights_duplicate_name", weights_with(duplicate_name), 3, "appears twice")
ck_case("weights_shape_overflow", weights_with(lambda t: safetensors_bytes(
    t, {"zz": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 0]}})), 3, "overflows")
ck_case("weights_header_huge", weights_with(lambda t: struct.pack("<Q", 2**63) + safetensors_bytes(t)[8:]), 3, "-byte header (limit")

a, b, wm = split_shards()
ck_case("shards_valid", lambda f: write_sharded(f, {"weight_map": wm}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a), "model-00002-of-00002.safetensors": safetensors_bytes(b)}), 0, "")
ck_case("shard_traversal", lambda f: write_sharded(f, {"weight_map": {**wm, "wte.weight": "../../../../etc/passwd"}}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a), "model-00002-of-00002.safetensors": safetensors_bytes(b)}),
    3, "outside the model folder")
ck_case("shard_absolute", lambda f: write_sharded(f, {"weight_map": {**wm, "wte.weight": "/etc/passwd"}}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a), "model-00002-of-00002.safetensors": safetensors_bytes(b)}),
    3, "outside the model folder")
ck_case("shard_missing", lambda f: write_sharded(f, {"weight_map": wm}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a)}), 3, "cannot open")
ck_case("shard_duplicate_tensor", lambda f: write_sharded(f, {"weight_map": wm}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a),
    "model-00002-of-00002.safetensors": safetensors_bytes({**b, sorted(a)[0]: a[sorted(a)[0]]})}),
    3, "appears in more than one shard")
ck_case("shard_index_malformed", lambda f: write_sharded(f, '{"weight_map": {', {}), 3, "is not valid JSON")
ck_case("shard_index_no_map", lambda f: write_sharded(f, {"metadata": {}}, {}), 3, "has no 'weight_map' object")
ck_case("shard_index_lies", lambda f: write_sharded(f, {"weight_map": {**wm, sorted(a)[0]: "model-00002-of-00002.safetensors"}}, {
    "model-00001-of-00002.safetensors": safetensors_bytes(a), "model-00002-of-00002.safetensors": safetensors_bytes(b)}),
    3, "which does not hold it")

# tokenizer files (analyze runs the text through them; tokenize loads them directly)
TEXT = "--text 'the theory' --quiet"


def tok_case(name, build, message, rc=3):
    case(name, build, "tokenize {ck}/%s --text 'the theory'" % name, rc, message)


def tokenizer_with(files, remove=()):
    def build(folder):
        write_checkpoint(folder)
        for r in remove:
            os.remove(os.path.join(folder, r))
        for n, data in files.items():
            write(os.path.join(folder, n), data)
    return build


case("tokenizer_missing", tokenizer_with({}, remove=("vocab.json", "merges.txt")),
     "analyze {ck}/tokenizer_missing " + TEXT, 3, "no tokenizer files")
tok_case("tokenizer_merges_missing", tokenizer_with({}, remove=("merges.txt",)), "missing")
tok_case("tokenizer_vocab_malformed", tokenizer_with({"vocab.json": '{"a": 0, "b": '}), "invalid JSON")
tok_case("tokenizer_vocab_number_overflow", tokenizer_with({"vocab.json": '{"a": 0, "b": 1e999}'}), "a number out of range")
tok_case("tokenizer_vocab_not_object", tokenizer_with({"vocab.json": '["a", "b"]'}), "must be an object")
tok_case("tokenizer_vocab_huge_id", tokenizer_with({"vocab.json": json.dumps({**VOCAB, "zz": 2**31 - 1})}), "an id in [0,")
tok_case("tokenizer_vocab_negative_id", tokenizer_with({"vocab.json": json.dumps({**VOCAB, "zz": -3})}), "an id in [0,")
tok_case("tokenizer_merges_unknown_token", tokenizer_with({"merges.txt": "#version: 0.2\nh e\nq\u0120 zz\n"}),
         "that is not in the vocabulary")
tok_case("tokenizer_merges_malformed", tokenizer_with({"merges.txt": "#version: 0.2\nh e\nthree tokens here\n"}),
         "is not two tokens separated by one space")
tok_case("tokenizer_merges_not_utf8", tokenizer_with({"merges.txt": b"#version: 0.2\nh e\n\xff\xfe x\n"}), "valid UTF-8")
tok_case("tokenizer_json_malformed", tokenizer_with({"tokenizer.json": '{"model": {"type": "BPE", "vocab": {'}), "invalid JSON")
tok_case("tokenizer_json_wordpiece", tokenizer_with({"tokenizer.json": json.dumps(
    {"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "ByteLevel"}})}), "is not supported")
tok_case("tokenizer_json_deep_nesting", tokenizer_with({"tokenizer.json":
    '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}, '
    '"normalizer": ' + '{"type": "Sequence", "normalizers": [' * 5000 + '{"type": "NFC"}' + ']}' * 5000 + '}'}),
    "nested too deeply")
tok_case("tokenizer_config_bad_added_id", tokenizer_with({"tokenizer_config.json": json.dumps(
    {"added_tokens_decoder": {"-7": {"content": "<x>", "special": True}}})}), "keyed by integer ids")
tok_case("tokenizer_config_bos_missing", tokenizer_with({"tokenizer_config.json": json.dumps(
    {"add_bos_token": True, "bos_token": None, "unk_token": None, "eos_token": None})}), "add_bos_token is set but bos_token is not")

# texts and ids (on the valid checkpoint)
TEXTS = {"invalid_utf8.txt": b"caf\xe9 au lait", "empty.txt": b"", "one_token.txt": b"a",
         "too_long.txt": ("the " * 40).encode(), "overlong_nul.txt": b"a\xc0\x80b"}
V_OK = "{ck}/valid_info"
case("text_invalid_utf8", None, f"analyze {V_OK} --quiet --text-file {{texts}}/invalid_utf8.txt --json {{out}}/r.json", 3, "not valid UTF-8")
case("text_overlong_utf8", None, f"tokenize {V_OK} --text-file {{texts}}/overlong_nul.txt", 3, "not valid UTF-8")
case("text_empty", None, f"analyze {V_OK} --quiet --text-file {{texts}}/empty.txt", 3, "0 token(s)")
case("text_one_token", None, f"analyze {V_OK} --quiet --text-file {{texts}}/one_token.txt", 3, "1 token(s)")
case("text_too_long", None, f"analyze {V_OK} --quiet --text-file {{texts}}/too_long.txt", 3,
     f"exceed this model's {POSITIONS} positions")
case("text_too_long_attention", None, f"attention {V_OK} --quiet --text-file {{texts}}/too_long.txt --out {{out}}/a.safetensors", 3,
     f"exceed this model's {POSITIONS} positions")
case("text_file_missing", None, f"analyze {V_OK} --quiet --text-file {{texts}}/no_such_file.txt", 3, "does not exist")
case("ids_empty", None, f"analyze {V_OK} --quiet --ids ''", 2, "--ids")
case("ids_negative", None, f"analyze {V_OK} --quiet --ids=-1,2", 2, "not a valid token id")
case("ids_not_integer", None, f"analyze {V_OK} --quiet --ids 1,two", 2, "is not an integer")
case("ids_overflow", None, f"analyze {V_OK} --quiet --ids 1,99999999999999999999999", 2, "--ids")
case("ids_out_of_vocab", None, f"analyze {V_OK} --quiet --ids 1,{V}", 3, "outside the vocabulary")
case("ids_out_of_vocab_attention", None, f"attention {V_OK} --quiet --ids 1,{V} --out {{out}}/a.safetensors", 3,
     "outside the vocabulary")
case("ids_one", None, f"analyze {V_OK} --quiet --ids 5", 3, "1 token(s)")
case("usage_unknown_flag", None, f"analyze {V_OK} --no-such-flag", 2, "")
case("usage_two_inputs", None, f"analyze {V_OK} --text a --ids 1,2", 2, "")
case("usage_tokenize_ids", None, f"tokenize {V_OK} --ids 1,2", 2, "tokenize takes --text")
case("model_missing", None, "info {ck}/no_such_model", 3, "")
case("some_models_failed", None, f"analyze {V_OK} {{ck}}/config_zero_heads --quiet --text 'the theory' --json {{out}}/r.json", 1, "")
case("all_models_failed", None, "analyze {ck}/config_zero_heads {ck}/weights_missing --quiet --text 'the theory' --json {out}/r.json",
     3, "")


# ---- fuzz seed corpora ----

TINY_TOKENIZER_JSON = {
    "version": "1.0",
    "added_tokens": [{"id": V - 1, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                                                                 {"Sequence": {"id": "A", "type_id": 0}}],
                       "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [V - 1], "tokens": ["<|endoftext|>"]}}},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
              "vocab": VOCAB, "merges": [f"{a} {b}" for a, b in MERGES]},
}
SEP = b"\n====\n"


def write_seeds():
    # Seeds are (re)written by name; other files there (crash reproducers the fuzzers found,
    # regress_*) are kept.
    corpus = os.path.join(ROOT, "tests", "fuzz", "corpus")
    seeds = {"fuzz_safetensors": {}, "fuzz_config": {}, "fuzz_tokenizer_files": {}, "fuzz_encode": {}}
    s = seeds["fuzz_safetensors"]
    s.update({k: v for k, v in FILES.items()})
    s["valid_mixed"] = safetensors_bytes({
        "f32": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)), "f16": ("F16", [3], b"\x00\x3c\x00\xc0\x00\x7c"),
        "bf16": ("BF16", [2], b"\x80\x3f\x00\x40"), "i64": ("I64", [1], struct.pack("<q", 5)),
        "empty": ("F32", [0, 4], b""), "f64": ("F64", [1], struct.pack("<d", 0.5))},
        {"__metadata__": {"format": "pt"}})
    s["valid_gpt2_layer"] = safetensors_bytes({k: v for k, v in gpt2_tensors(1).items() if k.startswith("h.0.ln")})
    c = seeds["fuzz_config"]
    for folder in ("tests/data/fixtures", "models"):
        base = os.path.join(ROOT, folder)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            p = os.path.join(base, name, "config.json")
            if os.path.exists(p):
                c[name] = open(p, "rb").read()
    c["tiny_gpt2"] = json.dumps(CONFIG).encode()
    c["neox_rope_parameters"] = json.dumps({"model_type": "gpt_neox", "num_hidden_layers": 2, "num_attention_heads": 2,
                                            "hidden_size": 8, "intermediate_size": 32, "vocab_size": 50,
                                            "max_position_embeddings": 16, "rope_parameters": {
                                                "partial_rotary_factor": 0.25, "rope_theta": 10000}}).encode()
    t = seeds["fuzz_tokenizer_files"]
    t["tokenizer_json"] = json.dumps(TINY_TOKENIZER_JSON, ensure_ascii=False).encode() + SEP + \
        json.dumps({"add_bos_token": False}).encode() + SEP + "the theory <|endoftext|> café".encode()
    t["vocab_merges_opt"] = json.dumps(VOCAB, ensure_ascii=False).encode() + SEP + \
        ("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in MERGES)).encode() + SEP + \
        json.dumps({"add_bos_token": True, "bos_token": {"content": "<|endoftext|>"}, "add_prefix_space": False,
                    "added_tokens_decoder": {str(V - 1): {"content": "<|endoftext|>", "special": True}}}).encode() + SEP + \
        b"hello the\n\n  there"
    e = seeds["fuzz_encode"]
    texts = ["The fundamental nature of reality is that all things are interconnected.",
             "  leading spaces,\ttabs\nand newlines\r\n\n", "it's we're I'll 12345 3.14 ",
             "café cafe\u0301 naïve Ὀδυσσεύς Москва 東京 مرحبا नमस्ते 👩‍👩‍👧 <|endoftext|>x</s>"]
    for i, text in enumerate(texts):
        for k in range(3):
            e[f"text{i}_{k}"] = bytes([k]) + text.encode()
    e["invalid_utf8"] = b"\x00caf\xe9 \xed\xa0\x80 \xf4\x90\x80\x80"
    for target, files in seeds.items():
        for name, data in files.items():
            write(os.path.join(corpus, target, name), data)
    return sum(len(f) for f in seeds.values())


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "malformed")
    os.makedirs(out, exist_ok=True)
    for name, data in FILES.items():
        write(os.path.join(out, name + ".safetensors"), data)
    build_all(out)
    texts = os.path.join(out, "texts")
    for name, data in TEXTS.items():
        write(os.path.join(texts, name), data)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"comment": "generated by scripts/make_malformed.py; replayed by tests/unit/malformed_cli_test.cpp",
                   "cases": CASES}, f, indent=1)
        f.write("\n")
    n_seeds = write_seeds() if len(sys.argv) <= 1 else 0
    print(f"wrote {len(FILES)} safetensors files, {len(CHECKPOINTS)} checkpoint folders, {len(TEXTS)} texts, "
          f"{len(CASES)} CLI cases to {out}; {n_seeds} fuzz seeds")
