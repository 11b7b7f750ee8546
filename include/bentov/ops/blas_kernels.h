// OpenBLAS chooses its kernels once, when the library is loaded, from the CPU's model number
// (driver/others/dynamic.c, get_coretype). A build older than the CPU does not know the model:
// Debian 12's OpenBLAS 0.3.21 on an Emerald Rapids Xeon (family 6, model 0xCF) falls back to
// its Prescott (SSE3) kernels and runs sgemm at about a quarter of the machine's rate
// (36 GFLOP/s on 2 cores, measured by scripts/bench.py on the device machine). The kernels can
// only be chosen before the library initializes, through the environment variable
// OPENBLAS_CORETYPE, so a program that finds weak kernels re-executes itself with that set.
#pragma once

#include <string>

namespace bentov::ops {

// The kernels OpenBLAS chose ("Haswell", "SkylakeX", "Prescott", ...).
std::string blas_core_name();

// The OPENBLAS_CORETYPE this CPU runs best among those OpenBLAS has had for years: "SkylakeX"
// with AVX-512 F/BW/DQ/VL, "Haswell" with AVX2 and FMA, "" otherwise.
std::string preferred_blas_core();

// True when `chosen` kernels use less of the vector unit than `preferred` would (a pre-AVX2
// core chosen on an AVX2 or AVX-512 machine). Never true for an empty `preferred`.
bool blas_core_is_weaker(const std::string& chosen, const std::string& preferred);

// At the start of main(): if OpenBLAS chose weaker kernels than the CPU runs, and neither
// OPENBLAS_CORETYPE nor BENTOV_KEEP_BLAS_CORE is set, re-executes the program (/proc/self/exe,
// same arguments) with OPENBLAS_CORETYPE set. Returns normally in every other case, also when
// the exec fails (the run then goes on with the slow kernels).
void reexec_for_blas_kernels(char** argv);

}  // namespace bentov::ops
