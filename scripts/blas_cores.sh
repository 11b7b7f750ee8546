#!/usr/bin/env bash
# The OpenBLAS core types (OPENBLAS_CORETYPE values) whose sgemm kernels this CPU can execute,
# one per line, from the CPU flags: Sandybridge (AVX), Haswell and Zen (AVX2 + FMA), SkylakeX
# (AVX-512 F/CD/BW/DQ/VL), Cooperlake (SkylakeX + AVX-512 BF16). OpenBLAS does not check a
# forced core type against the CPU, so a kernel the CPU lacks would die of SIGILL.
set -euo pipefail
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
has avx && echo Sandybridge
has avx2 fma && echo Haswell && echo Zen
has avx512f avx512cd avx512bw avx512dq avx512vl && echo SkylakeX
has avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16 && echo Cooperlake
exit 0
