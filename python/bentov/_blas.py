"""The OpenBLAS kernels, chosen as the bentov command chooses them (src/ops/blas_kernels.cpp).

OpenBLAS picks its kernels from the CPU model once, when the library loads; a build older than
the CPU falls back to SSE kernels, whose products round differently from the AVX2 / AVX-512 ones.
The command re-executes itself with OPENBLAS_CORETYPE set; a Python process cannot, so before
the extension (and with it OpenBLAS) is loaded, a child process asks OpenBLAS which kernels it
would choose, and if they are weaker than this CPU runs, OPENBLAS_CORETYPE is set here. The
Python API then gives the command's numbers bit for bit.
"""
import os
import subprocess
import sys

_AVX2_OR_WIDER = {"Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen", "Excavator", "Steamroller", "Zen4"}
_PROBE = ("import ctypes; f = ctypes.CDLL('libopenblas.so.0').openblas_get_corename; "
          "f.restype = ctypes.c_char_p; print((f() or b'').decode())")


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _preferred_core():
    flags = _cpu_flags()
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return ""


def choose_kernels():
    if "OPENBLAS_CORETYPE" in os.environ or "BENTOV_KEEP_BLAS_CORE" in os.environ:
        return
    preferred = _preferred_core()
    if not preferred:
        return
    try:
        chosen = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                                timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return
    if chosen and chosen not in _AVX2_OR_WIDER:
        os.environ["OPENBLAS_CORETYPE"] = preferred
