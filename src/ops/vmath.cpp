// The vectorized math's entry points: the widest kernels of vmath_kernels.h this CPU runs
// (cpu_isa), else the scalar references; moment sums and the maximum in AVX2 here.
#include "bentov/ops/vmath.h"

#include <immintrin.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "vmath_isa.h"

namespace bentov::ops {

namespace ref {

double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count) {
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,
                 std::size_t* kept) {
  double sum = 0.0;
  std::size_t k = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (p[i] > threshold) {
      const double q = p[i] * scale;
      sum += q * std::log(q + eps);
      ++k;
    }
  }
  if (kept) *kept = k;
  return sum / scale;  // sum_i p_i log(.) = (1/scale) sum_i q_i log(.)
}

}  // namespace ref

namespace {

bool has_avx2_fma() { return cpu_isa() != Isa::kScalar; }

Isa detect_isa() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  const Isa widest = avx512 ? Isa::kAvx512 : avx2 ? Isa::kAvx2 : Isa::kScalar;
  const char* wanted = std::getenv("BENTOV_SIMD");
  if (wanted && std::strcmp(wanted, "scalar") == 0) return Isa::kScalar;
  if (wanted && std::strcmp(wanted, "avx2") == 0 && widest == Isa::kAvx512) return Isa::kAvx2;
  return widest;
}

#define BENTOV_AVX2 __attribute__((target("avx2,fma")))

BENTOV_AVX2 inline double hsum_pd(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

BENTOV_AVX2 float max_avx2(const float* x, std::size_t count) {
  __m256 m = _mm256_set1_ps(x[0]);
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float r = lanes[0];
  for (float l : lanes) r = l > r ? l : r;
  for (; i < count; ++i) r = x[i] > r ? x[i] : r;
  return r;
}

BENTOV_AVX2 void moment_sums_avx2(const float* a, std::size_t count, std::size_t first, double* mass,
                                  double* moment) {
  __m256d m0 = _mm256_setzero_pd(), m1 = _mm256_setzero_pd(), w0 = _mm256_setzero_pd(), w1 = _mm256_setzero_pd();
  __m256d idx0 = _mm256_set_pd(3, 2, 1, 0), idx1 = _mm256_set_pd(7, 6, 5, 4);
  const __m256d base = _mm256_set1_pd(static_cast<double>(first)), step = _mm256_set1_pd(8.0);
  idx0 = _mm256_add_pd(idx0, base);
  idx1 = _mm256_add_pd(idx1, base);
  std::size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    const __m256 v = _mm256_loadu_ps(a + j);
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    m0 = _mm256_add_pd(m0, lo);
    m1 = _mm256_add_pd(m1, hi);
    w0 = _mm256_fmadd_pd(lo, idx0, w0);
    w1 = _mm256_fmadd_pd(hi, idx1, w1);
    idx0 = _mm256_add_pd(idx0, step);
    idx1 = _mm256_add_pd(idx1, step);
  }
  double s = hsum_pd(_mm256_add_pd(m0, m1)), w = hsum_pd(_mm256_add_pd(w0, w1));
  for (; j < count; ++j) {
    s += a[j];
    w += static_cast<double>(a[j]) * static_cast<double>(first + j);
  }
  *mass = s;
  *moment = w;
}

BENTOV_AVX2 void scale_avx2(float* x, std::size_t count, float s) {
  const __m256 v = _mm256_set1_ps(s);
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), v));
  for (; i < count; ++i) x[i] *= s;
}

BENTOV_AVX2 void add_widened_avx2(double* sum, const float* x, std::size_t count) {
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_pd(sum + i, _mm256_add_pd(_mm256_loadu_pd(sum + i), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    _mm256_storeu_pd(sum + i + 4,
                     _mm256_add_pd(_mm256_loadu_pd(sum + i + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
  }
  for (; i < count; ++i) sum[i] += static_cast<double>(x[i]);
}

BENTOV_AVX2 void distance_sums_avx2(const double* a, std::size_t count, double d0, double* mass, double* weighted) {
  __m256d m0 = _mm256_setzero_pd(), m1 = _mm256_setzero_pd(), w0 = _mm256_setzero_pd(), w1 = _mm256_setzero_pd();
  __m256d d_lo = _mm256_sub_pd(_mm256_set1_pd(d0), _mm256_set_pd(3, 2, 1, 0));
  __m256d d_hi = _mm256_sub_pd(_mm256_set1_pd(d0), _mm256_set_pd(7, 6, 5, 4));
  const __m256d step = _mm256_set1_pd(8.0);
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) {
    const __m256d lo = _mm256_loadu_pd(a + k), hi = _mm256_loadu_pd(a + k + 4);
    m0 = _mm256_add_pd(m0, lo);
    m1 = _mm256_add_pd(m1, hi);
    w0 = _mm256_fmadd_pd(lo, d_lo, w0);
    w1 = _mm256_fmadd_pd(hi, d_hi, w1);
    d_lo = _mm256_sub_pd(d_lo, step);
    d_hi = _mm256_sub_pd(d_hi, step);
  }
  double s = hsum_pd(_mm256_add_pd(m0, m1)), w = hsum_pd(_mm256_add_pd(w0, w1));
  for (; k < count; ++k) {
    s += a[k];
    w += a[k] * (d0 - static_cast<double>(k));
  }
  *mass = s;
  *weighted = w;
}

}  // namespace

Isa cpu_isa() {
  static const Isa isa = detect_isa();
  return isa;
}

double sum_above(const float* a, std::size_t count, float threshold) {
  switch (cpu_isa()) {
    case Isa::kAvx512: return avx512::sum_above(a, count, threshold);
    case Isa::kAvx2: return avx2::sum_above(a, count, threshold);
    case Isa::kScalar: break;
  }
  double s = 0.0;
  for (std::size_t j = 0; j < count; ++j) {
    if (a[j] > threshold) s += a[j];
  }
  return s;
}

void moment_sums(const float* a, std::size_t count, std::size_t first, double* mass, double* moment) {
  if (has_avx2_fma()) {
    moment_sums_avx2(a, count, first, mass, moment);
    return;
  }
  double s = 0.0, w = 0.0;
  for (std::size_t j = 0; j < count; ++j) {
    s += a[j];
    w += static_cast<double>(a[j]) * static_cast<double>(first + j);
  }
  *mass = s;
  *moment = w;
}

double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count) {
  switch (cpu_isa()) {
    case Isa::kAvx512: return avx512::exp_shifted_sum(x, shift, y, count);
    case Isa::kAvx2: return avx2::exp_shifted_sum(x, shift, y, count);
    case Isa::kScalar: break;
  }
  return ref::exp_shifted_sum(x, shift, y, count);
}

double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,
                 std::size_t* kept) {
  switch (cpu_isa()) {
    case Isa::kAvx512: return avx512::sum_plogp(p, count, scale, eps, threshold, kept);
    case Isa::kAvx2: return avx2::sum_plogp(p, count, scale, eps, threshold, kept);
    case Isa::kScalar: break;
  }
  return ref::sum_plogp(p, count, scale, eps, threshold, kept);
}

double sum_plogp_and_mass(const float* p, std::size_t count, double scale, float eps, float threshold,
                          double* mass) {
  switch (cpu_isa()) {
    case Isa::kAvx512: return avx512::sum_plogp_and_mass(p, count, scale, eps, threshold, mass);
    case Isa::kAvx2: return avx2::sum_plogp_and_mass(p, count, scale, eps, threshold, mass);
    case Isa::kScalar: break;
  }
  *mass = sum_above(p, count, threshold);
  return ref::sum_plogp(p, count, scale, eps, threshold);
}

float max_value(const float* x, std::size_t count) {
  if (has_avx2_fma()) return max_avx2(x, count);
  float r = x[0];
  for (std::size_t i = 1; i < count; ++i) r = x[i] > r ? x[i] : r;
  return r;
}

void scale(float* x, std::size_t count, float s) {
  if (has_avx2_fma()) {
    scale_avx2(x, count, s);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) x[i] *= s;
}

void add_widened(double* sum, const float* x, std::size_t count) {
  if (has_avx2_fma()) {
    add_widened_avx2(sum, x, count);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) sum[i] += static_cast<double>(x[i]);
}

void distance_sums(const double* a, std::size_t count, double d0, double* mass, double* weighted) {
  if (has_avx2_fma()) {
    distance_sums_avx2(a, count, d0, mass, weighted);
    return;
  }
  double s = 0.0, w = 0.0;
  for (std::size_t k = 0; k < count; ++k) {
    s += a[k];
    w += a[k] * (d0 - static_cast<double>(k));
  }
  *mass = s;
  *weighted = w;
}

}  // namespace bentov::ops
