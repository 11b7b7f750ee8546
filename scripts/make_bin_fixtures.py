#!/usr/bin/env python3
"""Writes tests/data/bin/: PyTorch `pytorch_model.bin` checkpoints and hostile variants.

Standard library only (no torch, no numpy). The checkpoints emulate torch.save (PyTorch >= 1.6,
torch/serialization.py `_save` and caffe2/serialize/inline_container.cc) byte for byte where it
matters to a reader:

- the pickle is written by pickle.Pickler (protocol 2, torch's DEFAULT_PROTOCOL) with a
  persistent_id hook returning ('storage', torch.<T>Storage, key, 'cpu', numel) for every
  storage, and tensors reduce to torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
  stride, requires_grad, OrderedDict()); fake `torch` / `torch._utils` modules are registered in
  sys.modules under the real names so the GLOBAL opcodes are exactly torch's. Nothing of them is
  callable: the fakes raise if anything ever calls them.
- the zip has entries <prefix>/data.pkl, <prefix>/.format_version, <prefix>/byteorder,
  <prefix>/data/<key>..., <prefix>/version, <prefix>/.data/serialization_id, all stored
  (ZIP_STORED); each local header carries torch's 'FB' padding extra field so the data starts on
  a 64-byte boundary; ZIP64 end records are appended as miniz does with MZ_ZIP_FLAG_WRITE_ZIP64.
  One file (features/dtypes_p4_zip64.bin) also uses ZIP64 sizes and offsets in every header,
  as torch writes them past 4 GiB.

Values come from the safetensors fixtures (tests/data/fixtures/gpt2-lmhead, opt-preln) copied
as raw bytes, so the C++ test can demand bit-for-bit equality and equal attention.

Usage: python3 scripts/make_bin_fixtures.py   (rewrites tests/data/bin/)
"""
import collections
import io
import json
import os
import pickle
import shutil
import struct
import sys
import tarfile
import types
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")
OUT = os.path.join(ROOT, "tests", "data", "bin")
CANARY = "/tmp/bentov_pickle_canary"  # hostile payloads would create it; the test checks it never appears


# ---- fake torch modules: the globals pickle writes are torch's real names ----

def _never_called(*_args, **_kwargs):
    raise RuntimeError("fixture fakes are never called")


torch_mod = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
for fn_name in ("_rebuild_tensor_v2", "_rebuild_parameter"):
    fn = types.FunctionType(_never_called.__code__, {}, fn_name)
    fn.__module__ = "torch._utils"
    fn.__qualname__ = fn_name
    setattr(torch_utils, fn_name, fn)
torch_mod._utils = torch_utils

STORAGE_TYPES = {  # safetensors dtype -> (storage class name, element size, struct code)
    "F64": ("DoubleStorage", 8, "d"), "F32": ("FloatStorage", 4, "f"),
    "F16": ("HalfStorage", 2, "e"), "BF16": ("BFloat16Storage", 2, None),
    "I64": ("LongStorage", 8, "q"), "I32": ("IntStorage", 4, "i"),
    "I16": ("ShortStorage", 2, "h"), "I8": ("CharStorage", 1, "b"),
    "U8": ("ByteStorage", 1, "B"), "BOOL": ("BoolStorage", 1, "?"),
}
for cls_name, _, _ in STORAGE_TYPES.values():
    setattr(torch_mod, cls_name, type(cls_name, (), {"__module__": "torch"}))
sys.modules["torch"] = torch_mod
sys.modules["torch._utils"] = torch_utils


class Storage:
    """A TypedStorage: raw little-endian bytes of `numel` elements of one dtype."""

    def __init__(self, dtype, data):
        self.dtype = dtype
        self.data = bytes(data)
        self.numel = len(self.data) // STORAGE_TYPES[dtype][1]
        self.type = getattr(torch_mod, STORAGE_TYPES[dtype][0])


def contiguous_strides(shape):
    strides, acc = [], 1
    for d in reversed(shape):
        strides.append(acc)
        acc *= d
    return tuple(reversed(strides))


class Tensor:
    """torch.Tensor.__reduce_ex__ -> _reduce_ex_internal for a plain CPU tensor."""

    def __init__(self, storage, shape, offset=0, stride=None):
        self.storage, self.shape, self.offset = storage, tuple(shape), offset
        self.stride = tuple(stride) if stride is not None else contiguous_strides(shape)

    def __reduce_ex__(self, proto):
        return (torch_utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False,
                 collections.OrderedDict()))


class Parameter:
    """torch.nn.Parameter.__reduce_ex__ (no Python state): _rebuild_parameter(data, rg, hooks)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, proto):
        return (torch_utils._rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


def torch_pickle(obj, protocol=2):
    """torch.serialization._save's pickling: returns (data.pkl bytes, {key: Storage})."""
    keys, storages = {}, {}

    class TorchPickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, Storage):
                key = keys.setdefault(id(o), str(len(keys)))
                storages[key] = o
                return ("storage", o.type, key, "cpu", o.numel)
            return None

    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue(), storages


# ---- zip writing (torch's record layout) ----

def add_zip64_end_records(blob):
    """Appends miniz's ZIP64 end of central directory record and locator before the EOCD."""
    eocd = blob.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack("<HII", blob[eocd + 10:eocd + 20])
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, eocd, 1)
    return blob[:eocd] + z64 + locator + blob[eocd:]


def torch_records(pkl, storages, byteorder="little"):
    records = [("data.pkl", pkl), (".format_version", b"1"), ("byteorder", byteorder.encode())]
    for key in sorted(storages, key=int):
        records.append((f"data/{key}", storages[key].data))
    records.append(("version", b"3\n"))
    records.append((".data/serialization_id", b"1234567890123456789012345678901234567890"))
    return records


def write_zip(path, prefix, records, compress=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in records:
            full = f"{prefix}/{name}"
            zi = zipfile.ZipInfo(full, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            # inline_container.cc getPadding: an 'FB' extra field of 'Z's aligns the data to 64.
            start = buf.tell() + 30 + len(full.encode()) + 4
            pad = (-start) % 64
            zi.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            zf.writestr(zi, data)
    blob = add_zip64_end_records(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:  # our own output must read back
        assert zf.testzip() is None
        for name, data in records:
            assert zf.read(f"{prefix}/{name}") == data
    with open(path, "wb") as f:
        f.write(blob)


def write_zip64_everywhere(path, prefix, records):
    """Stored entries whose headers all use ZIP64 sizes/offsets (miniz past 4 GiB)."""
    out = bytearray()
    central = bytearray()
    for name, data in records:
        full = f"{prefix}/{name}".encode()
        crc = zlib.crc32(data)
        offset = len(out)
        z64_local = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        start = offset + 30 + len(full) + len(z64_local) + 4
        pad = (-start) % 64
        extra = z64_local + b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(full), len(extra)) + full + extra
        assert len(out) % 64 == 0
        out += data
        z64_central = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(full), len(z64_central), 0, 0, 0, 0,
                               0xFFFFFFFF) + full + z64_central
    cd_offset = len(out)
    out += central
    z64_offset = len(out)
    n = len(records)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    blob = bytes(out)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert zf.testzip() is None
        for name, data in records:
            assert zf.read(f"{prefix}/{name}") == data
    with open(path, "wb") as f:
        f.write(blob)


def save(path, obj, prefix=None, protocol=2):
    """torch.save(obj, path): the prefix is the file's stem, as PyTorchStreamWriter names it."""
    prefix = prefix or os.path.splitext(os.path.basename(path))[0]
    pkl, storages = torch_pickle(obj, protocol)
    write_zip(path, prefix, torch_records(pkl, storages))


# ---- the model checkpoints, from the safetensors fixtures ----

def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = collections.OrderedDict()
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        tensors[name] = (e["dtype"], e["shape"], data[b:end])
    return tensors


def state_dict_of(tensors, ordered):
    sd = collections.OrderedDict() if ordered else {}
    for name, (dtype, shape, data) in tensors.items():
        sd[name] = Tensor(Storage(dtype, data), shape)
    if ordered:
        # nn.Module.state_dict() attaches _metadata; pickling it emits BUILD with {'_metadata': ...}.
        meta = collections.OrderedDict()
        meta[""] = {"version": 1}
        sd._metadata = meta
    return sd


def model_folders():
    # gpt2-lmhead: one file, an OrderedDict state dict (transformers' unsharded torch.save).
    src = os.path.join(FIXTURES, "gpt2-lmhead")
    dst = os.path.join(OUT, "gpt2-lmhead")
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "config.json"), dst)
    save(os.path.join(dst, "pytorch_model.bin"),
         state_dict_of(read_safetensors(os.path.join(src, "model.safetensors")), ordered=True))

    # opt-preln: two shards of plain dicts and the index (transformers' sharded save).
    src = os.path.join(FIXTURES, "opt-preln")
    dst = os.path.join(OUT, "opt-preln-sharded")
    os.makedirs(dst)
    shutil.copy(os.path.join(src, "config.json"), dst)
    tensors = read_safetensors(os.path.join(src, "model.safetensors"))
    names = list(tensors)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map, total = {}, 0
    for i, part in enumerate(halves):
        shard = f"pytorch_model-{i + 1:05d}-of-{len(halves):05d}.bin"
        save(os.path.join(dst, shard), state_dict_of({n: tensors[n] for n in part}, ordered=False))
        for n in part:
            weight_map[n] = shard
            total += len(tensors[n][2])
    with open(os.path.join(dst, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")


# ---- a feature file: every dtype, views, scalars, parameters ----

def pack(dtype, values):
    if dtype == "BF16":  # the top half of the float32 (values below are exact in bf16)
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return struct.pack("<" + STORAGE_TYPES[dtype][2] * len(values), *values)


def features():
    dst = os.path.join(OUT, "features")
    os.makedirs(dst)
    expected = {}
    sd = collections.OrderedDict()

    def add(name, dtype, shape, values, tensor=None):
        if tensor is None:
            tensor = Tensor(Storage(dtype, pack(dtype, values)), shape)
        sd[name] = tensor
        if dtype in ("F32", "F16"):  # the values as stored
            values = list(struct.unpack("<%d%s" % (len(values), STORAGE_TYPES[dtype][2]),
                                        pack(dtype, values)))
        elif dtype == "BF16":
            values = [struct.unpack("<f", b"\0\0" + pack(dtype, [v]))[0] for v in values]
        expected[name] = {"dtype": dtype, "shape": shape, "values": values}

    add("f64", "F64", [2], [1.0 / 3.0, -2.5])
    add("f32", "F32", [2, 3], [0.5, -1.25, 3.0, 1e-20, -0.0, 65504.0])
    add("f16", "F16", [3, 1, 2], [0.5, -1.5, 2.0, 0.0009765625, -65504.0, 6.103515625e-05])
    add("bf16", "BF16", [4], [1.0, -2.0, 0.15625, 256.0])
    add("i64", "I64", [3], [-(2 ** 40), 7, 2 ** 62])
    add("i32", "I32", [2, 2], [-1, 0, 1, 2 ** 31 - 1])
    add("i16", "I16", [2], [-300, 300])
    add("i8", "I8", [2], [-128, 127])
    add("u8", "U8", [3], [0, 1, 255])
    add("bool", "BOOL", [3], [True, False, True])
    add("scalar", "F32", [], [42.0])
    add("empty", "F32", [0, 4], [])
    # Two contiguous views of one storage (a fused weight split by slicing): one key, offsets.
    shared = Storage("F32", pack("F32", [float(i) for i in range(10)]))
    add("shared.head", "F32", [2, 3], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], Tensor(shared, [2, 3]))
    add("shared.tail", "F32", [4], [6.0, 7.0, 8.0, 9.0], Tensor(shared, [4], offset=6))
    # Size-1 dims may carry any stride (torch's is_contiguous ignores them).
    add("unit_dims", "F32", [1, 3, 1], [1.0, 2.0, 3.0],
        Tensor(Storage("F32", pack("F32", [1.0, 2.0, 3.0])), [1, 3, 1], stride=(99, 1, 5)))
    # An nn.Parameter saved as such (state_dict(keep_vars=True)).
    param = Tensor(Storage("F16", pack("F16", [1.0, 2.0])), [2])
    sd["param"] = Parameter(param)
    expected["param"] = {"dtype": "F16", "shape": [2], "values": [1.0, 2.0]}

    save(os.path.join(dst, "dtypes_p2.bin"), sd)
    # The same state dict at protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL) in an
    # archive whose every header uses ZIP64 fields, under torch's buffer prefix "archive".
    pkl, storages = torch_pickle(sd, protocol=4)
    assert b"\x93" in pkl and b"\x95" in pkl
    write_zip64_everywhere(os.path.join(dst, "dtypes_p4_zip64.bin"), "archive",
                           torch_records(pkl, storages))
    pkl5, storages5 = torch_pickle(sd, protocol=5)
    write_zip(os.path.join(dst, "dtypes_p5.bin"), "archive", torch_records(pkl5, storages5))
    with open(os.path.join(dst, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


# ---- hostile and malformed files ----

def op_str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


SYSTEM_CALL = b"(" + op_str(f"touch {CANARY}") + b"tR"


def in_state_dict(value_ops, key="weight"):
    """PROTO 2, {key: <value_ops>}, STOP."""
    return b"\x80\x02}q\x00" + op_str(key) + value_ops + b"s."


def valid_tensor_ops(key="0", numel=4, shape=(4,), stride=(1,), offset=0, storage="FloatStorage"):
    """A _rebuild_tensor_v2 call as torch pickles it, written opcode by opcode."""
    def ints(xs):
        return b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"
    pid = b"(" + op_str("storage") + op_global("torch", storage) + op_str(key) + op_str("cpu") + \
        b"J" + struct.pack("<i", numel) + b"tQ"
    return (op_global("torch._utils", "_rebuild_tensor_v2") + b"(" + pid + b"J" +
            struct.pack("<i", offset) + ints(shape) + ints(stride) + b"\x89" +
            op_global("collections", "OrderedDict") + b")RtR")


class Evil:
    """What a malicious checkpoint pickles: REDUCE(os.system, (cmd,))."""

    def __reduce__(self):
        return (os.system, (f"touch {CANARY}",))


def hostile():
    dst = os.path.join(OUT, "hostile")
    os.makedirs(dst)
    cases = []

    def case(file, expect, kind="format"):
        cases.append({"file": file, "error": expect, "kind": kind})

    def raw(file, pkl, expect, storages=None, kind="format", **zip_kw):
        records = [("data.pkl", pkl), ("byteorder", b"little")]
        for key, data in (storages or {}).items():
            records.append((f"data/{key}", data))
        records.append(("version", b"3\n"))
        write_zip(os.path.join(dst, file), "archive", records, **zip_kw)
        case(file, expect, kind)

    four_floats = {"0": pack("F32", [1.0, 2.0, 3.0, 4.0])}

    # Code execution through globals, in the forms an attacker would write them.
    raw("reduce_os_system.bin", in_state_dict(op_global("os", "system") + SYSTEM_CALL),
        "refusing global 'os.system'")
    raw("global_builtins_eval.bin",
        in_state_dict(op_global("builtins", "eval") + b"(" + op_str("__import__('os').system('touch " +
                                                                     CANARY + "')") + b"tR"),
        "refusing global 'builtins.eval'")
    raw("global_subprocess_popen.bin",
        in_state_dict(op_global("subprocess", "Popen") + b"(" + op_str("touch") + op_str(CANARY) +
                      b"\x86\x85R"),
        "refusing global 'subprocess.Popen'")
    raw("stack_global_os_system.bin",
        b"\x80\x04}" + b"\x8c\x06weight" + b"\x8c\x02os\x8c\x06system\x93" + SYSTEM_CALL + b"s.",
        "refusing global 'os.system'")
    # The real pickler's output for os.system (module 'posix' on Linux), after a valid tensor.
    sd = collections.OrderedDict()
    sd["ok"] = Tensor(Storage("F32", pack("F32", [1.0, 2.0, 3.0, 4.0])), [4])
    sd["evil"] = Evil()
    pkl, storages = torch_pickle(sd)
    assert b"cposix\nsystem\n" in pkl
    write_zip(os.path.join(dst, "pickled_posix_system.bin"), "pickled_posix_system",
              torch_records(pkl, storages))
    case("pickled_posix_system.bin", "refusing global 'posix.system'")
    # Allowed globals misused.
    raw("reduce_storage_type.bin",
        in_state_dict(op_global("torch", "FloatStorage") + b"(K\x04tR"),
        "refusing REDUCE of 'torch.FloatStorage'")
    raw("ordered_dict_with_args.bin",
        in_state_dict(op_global("collections", "OrderedDict") + b"(]tR"),
        "collections.OrderedDict called with arguments")
    raw("build_on_tensor.bin",
        in_state_dict(valid_tensor_ops() + b"}" + op_str("__class__") + op_str("x") + b"sb"),
        "refusing BUILD of a tensor", four_floats)
    raw("persid_not_storage_type.bin",
        in_state_dict(b"(" + op_str("storage") + op_global("collections", "OrderedDict") +
                      op_str("0") + op_str("cpu") + b"K\x04tQ"),
        "the second item is not a storage type")
    # Opcodes outside the state-dict subset.
    raw("opcode_inst.bin", b"\x80\x02(" + op_str(f"touch {CANARY}") + b"ios\nsystem\n.",
        "refusing pickle opcode INST (0x69)")
    raw("opcode_obj.bin", b"\x80\x02(" + op_global("os", "system") + op_str(CANARY) + b"o.",
        "refusing global 'os.system'")
    raw("opcode_newobj.bin", b"\x80\x02" + op_global("collections", "OrderedDict") + b")\x81.",
        "refusing pickle opcode NEWOBJ (0x81)")
    raw("opcode_ext1.bin", b"\x80\x02\x82\x01.", "refusing pickle opcode EXT1 (0x82)")
    raw("opcode_persid_text.bin", b"\x80\x02P0\n.", "refusing pickle opcode PERSID (0x50)")
    raw("protocol_0.bin", b"(dp0\n.", "does not start with a PROTO opcode")
    # Bounds.
    raw("huge_memo_index.bin", b"\x80\x02}r\xf0\xff\xff\xff.", "memo index 4294967280 exceeds the limit")
    raw("memo_get_unset.bin", b"\x80\x02}q\x00j\x39\x30\x00\x00.", "memo index 12345 was never stored")
    raw("deep_marks.bin", b"\x80\x02" + b"(" * 300 + b".", "nests more than 256 MARKs")
    raw("huge_string.bin", b"\x80\x02X\xff\xff\xff\xff" + b"a" * 16, "string (limit")
    raw("long1_too_wide.bin", b"\x80\x02\x8a\x09" + b"\x01" * 9 + b".", "LONG1 integer of 9 bytes")
    raw("truncated_pickle.bin", in_state_dict(valid_tensor_ops())[:-10], "truncated", four_floats)
    raw("stack_underflow.bin", b"\x80\x02s.", "pops from an empty stack")
    # State-dict shape and storages.
    raw("not_a_dict.bin", b"\x80\x02]q\x00.", "holds a list, not a state dict")
    raw("non_tensor_entry.bin", in_state_dict(b"K\x03", key="step"), "entry 'step' is an int, not a tensor")
    raw("duplicate_name.bin",
        b"\x80\x02}(" + op_str("w") + valid_tensor_ops() + op_str("w") + valid_tensor_ops() + b"u.",
        "names tensor 'w' twice", four_floats)
    raw("missing_storage.bin", in_state_dict(valid_tensor_ops(key="7")),
        "the archive has no 'archive/data/7'", four_floats)
    raw("shape_exceeds_storage.bin", in_state_dict(valid_tensor_ops(shape=(3, 2), stride=(2, 1))),
        "needs elements [0, 0 + 6) of storage '0', which holds 4", four_floats)
    raw("offset_past_storage.bin", in_state_dict(valid_tensor_ops(shape=(2,), offset=3)),
        "needs elements [3, 3 + 2)", four_floats)
    raw("storage_size_mismatch.bin", in_state_dict(valid_tensor_ops(numel=4)),
        "holds 12 bytes", {"0": pack("F32", [1.0, 2.0, 3.0])})
    raw("non_contiguous.bin", in_state_dict(valid_tensor_ops(shape=(2, 2), stride=(1, 2))),
        "is not contiguous (size [2, 2], stride [1, 2])", four_floats)
    raw("compressed_storage.bin", in_state_dict(valid_tensor_ops()), "is compressed (zip method 8)",
        four_floats, compress=("data/0",))
    # Archive structure.
    good = in_state_dict(valid_tensor_ops())
    write_zip(os.path.join(dst, "no_data_pkl.bin"), "archive",
              [("byteorder", b"little"), ("data/0", four_floats["0"]), ("version", b"3\n")])
    case("no_data_pkl.bin", "zip archive without '<prefix>/data.pkl'")
    write_zip(os.path.join(dst, "big_endian.bin"), "archive",
              [("data.pkl", good), ("byteorder", b"big"), ("data/0", four_floats["0"])])
    case("big_endian.bin", "'big'-endian", "unsupported")
    with open(os.path.join(OUT, "features", "dtypes_p2.bin"), "rb") as f:
        whole = f.read()
    with open(os.path.join(dst, "truncated_zip.bin"), "wb") as f:
        f.write(whole[: len(whole) * 3 // 5])
    case("truncated_zip.bin", "no end of central directory record")
    bad_cd = bytearray(whole)
    eocd = bad_cd.rindex(b"PK\x05\x06")
    z64 = bad_cd.rindex(b"PK\x06\x06")
    struct.pack_into("<Q", bad_cd, z64 + 48, len(whole) * 2)  # central directory offset
    with open(os.path.join(dst, "central_directory_outside.bin"), "wb") as f:
        f.write(bad_cd)
    case("central_directory_outside.bin", "central directory")
    assert eocd > z64
    # Legacy formats.
    legacy = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
    with open(os.path.join(dst, "legacy_pickle.bin"), "wb") as f:
        f.write(legacy)
    case("legacy_pickle.bin", "legacy (pre-1.6) torch.save file")
    # Hostile files written with pickle.dump (no zip): scanned, and the global is named.
    for proto in (2, 4):
        with open(os.path.join(dst, f"bare_pickle_p{proto}_system.bin"), "wb") as f:
            f.write(pickle.dumps(Evil(), protocol=proto))
        case(f"bare_pickle_p{proto}_system.bin", "refusing global 'posix.system'")
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for member in ("sys_info", "pickle", "storages", "tensors"):
            ti = tarfile.TarInfo(member)
            ti.size, ti.mtime = 4, 0
            tf.addfile(ti, io.BytesIO(b"\x80\x02N."))
    with open(os.path.join(dst, "legacy_tar.bin"), "wb") as f:
        f.write(tar_buf.getvalue())
    case("legacy_tar.bin", "legacy torch.save tar archive")
    with open(os.path.join(dst, "not_a_checkpoint.bin"), "wb") as f:
        f.write(b"<html>404</html>\n")
    case("not_a_checkpoint.bin", "no zip signature")

    with open(os.path.join(dst, "cases.json"), "w") as f:
        json.dump({"canary": CANARY, "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    model_folders()
    features()
    hostile()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
