#include "bentov/ops/blas_kernels.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

namespace bentov::ops {

namespace {

// OpenBLAS core names (driver/others/dynamic.c, corename[]) whose sgemm uses 256-bit FMA or
// wider; anything else on an AVX2 machine is a fallback.
constexpr std::array<std::string_view, 8> kAvx2OrWiderCores = {
    "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen", "Excavator", "Steamroller",
    "Zen4"};

bool cpu_has_avx512_for_blas() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

bool cpu_has_avx2_fma() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

}  // namespace

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name ? std::string(name) : std::string();
}

std::string preferred_blas_core() {
  if (cpu_has_avx512_for_blas()) return "SkylakeX";
  if (cpu_has_avx2_fma()) return "Haswell";
  return "";
}

bool blas_core_is_weaker(const std::string& chosen, const std::string& preferred) {
  if (preferred.empty()) return false;
  const auto strong = [](const std::string& core) {
    return std::find(kAvx2OrWiderCores.begin(), kAvx2OrWiderCores.end(), core) != kAvx2OrWiderCores.end();
  };
  return !strong(chosen);
}

void reexec_for_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("BENTOV_KEEP_BLAS_CORE")) return;
  const std::string preferred = preferred_blas_core();
  if (!blas_core_is_weaker(blas_core_name(), preferred)) return;
  // BENTOV_KEEP_BLAS_CORE stops a second attempt should the library ignore the variable.
  if (setenv("OPENBLAS_CORETYPE", preferred.c_str(), 1) != 0 || setenv("BENTOV_KEEP_BLAS_CORE", "1", 1) != 0) {
    return;
  }
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the chosen kernels
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace bentov::ops
