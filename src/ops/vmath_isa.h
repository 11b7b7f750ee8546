// The vectorized kernels of vmath_kernels.h at each width, for vmath.cpp and gelu_erf.cpp to
// choose from at run time (cpu_isa): each width in its own translation unit, compiled for it.
#pragma once

#include <cstddef>

namespace bentov::ops {

enum class Isa { kScalar, kAvx2, kAvx512 };
// The widest this CPU runs (AVX2 + FMA; AVX-512 F, DQ, BW and VL), or BENTOV_SIMD's choice when
// narrower: "avx2" or "scalar".
Isa cpu_isa();

#define BENTOV_VMATH_KERNELS                                                                                \
  double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count);                        \
  double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,            \
                   std::size_t* kept);                                                                      \
  double sum_above(const float* a, std::size_t count, float threshold);                                    \
  double sum_plogp_and_mass(const float* p, std::size_t count, double scale, float eps, float threshold,   \
                            double* mass);                                                                  \
  void gelu_erf(float* x, std::size_t count);                                                              \
  /* one row of ops::layer_norm_to (rms: of ops::rms_norm_to, bias null) */                                 \
  void norm_row(const float* x, float* y, std::size_t d, const float* weight, const float* bias, double eps, \
                bool rms);

namespace avx2 {
BENTOV_VMATH_KERNELS
}  // namespace avx2
namespace avx512 {
BENTOV_VMATH_KERNELS
}  // namespace avx512

#undef BENTOV_VMATH_KERNELS

}  // namespace bentov::ops
