// vmath_kernels.h at the Avx512 width; this file alone is compiled for it (CMakeLists.txt), and
// runs only where cpu_isa() says the CPU can.
#include "vmath_isa.h"
#include "vmath_kernels.h"

namespace bentov::ops::avx512 {

double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count) {
  return kernels::exp_shifted_sum<simd::Avx512>(x, shift, y, count);
}
double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold, std::size_t* kept) {
  return kernels::sum_plogp<simd::Avx512>(p, count, scale, eps, threshold, kept);
}
double sum_plogp_and_mass(const float* p, std::size_t count, double scale, float eps, float threshold,
                          double* mass) {
  return kernels::sum_plogp_and_mass<simd::Avx512>(p, count, scale, eps, threshold, mass);
}
double sum_above(const float* a, std::size_t count, float threshold) {
  return kernels::sum_above<simd::Avx512>(a, count, threshold);
}
void gelu_erf(float* x, std::size_t count) { kernels::gelu_erf<simd::Avx512>(x, count); }
void norm_row(const float* x, float* y, std::size_t d, const float* weight, const float* bias, double eps,
              bool rms) {
  kernels::norm_row<simd::Avx512>(x, y, d, weight, bias, eps, rms);
}

}  // namespace bentov::ops::avx512
