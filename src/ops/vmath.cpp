// Polynomials and range reduction after Cephes expf/logf (S. L. Moshier), as used by many
// SIMD libraries; written here for AVX2+FMA intrinsics.
#include "bentov/ops/vmath.h"

#include <immintrin.h>

#include <cmath>

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

bool has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

#define BENTOV_AVX2 __attribute__((target("avx2,fma")))

BENTOV_AVX2 inline __m256 exp256(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365447505531f);
  x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

BENTOV_AVX2 inline __m256 log256(__m256 x) {  // x > 0, normal
  const __m256i xi = _mm256_castps_si256(x);
  __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007fffff)),
                                                 _mm256_set1_epi32(0x3f000000)));  // [0.5, 1)
  const __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(small, _mm256_set1_ps(1.0f)));
  m = _mm256_add_ps(_mm256_sub_ps(m, _mm256_set1_ps(1.0f)), _mm256_and_ps(small, m));
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 y = _mm256_set1_ps(7.0376836292e-2f);
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.1514610310e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.1676998740e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.2420140846e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(1.4249322787e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-1.6668057665e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(2.0000714765e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(-2.4999993993e-1f));
  y = _mm256_fmadd_ps(y, m, _mm256_set1_ps(3.3333331174e-1f));
  y = _mm256_mul_ps(_mm256_mul_ps(y, m), z);
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
  return _mm256_add_ps(_mm256_add_ps(m, y), _mm256_mul_ps(e, _mm256_set1_ps(0.693359375f)));
}

BENTOV_AVX2 inline double hsum_pd(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

BENTOV_AVX2 double exp_shifted_sum_avx2(const float* x, float shift, float* y, std::size_t count) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(y + i, v);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double sum = hsum_pd(_mm256_add_pd(acc0, acc1));
  for (; i < count; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

BENTOV_AVX2 double sum_plogp_avx2(const float* p, std::size_t count, double scale, float eps,
                                  float threshold, std::size_t* kept) {
  const __m256 sc = _mm256_set1_ps(static_cast<float>(scale)), ep = _mm256_set1_ps(eps),
               th = _mm256_set1_ps(threshold);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  std::size_t k = 0, i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256 v = _mm256_loadu_ps(p + i);
    const __m256 keep = _mm256_cmp_ps(v, th, _CMP_GT_OQ);
    const int mask = _mm256_movemask_ps(keep);
    if (mask == 0) continue;
    k += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(mask)));
    // Entries not kept get log(1) = 0 and weight 0.
    const __m256 arg = _mm256_blendv_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(v, sc, ep), keep);
    const __m256 term = _mm256_and_ps(keep, _mm256_mul_ps(v, log256(arg)));
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(term)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(term, 1)));
  }
  double sum = hsum_pd(_mm256_add_pd(acc0, acc1));
  for (; i < count; ++i) {
    if (p[i] > threshold) {
      sum += static_cast<double>(p[i]) * std::log(p[i] * scale + eps);
      ++k;
    }
  }
  if (kept) *kept = k;
  return sum;
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

BENTOV_AVX2 double sum_above_avx2(const float* a, std::size_t count, float threshold) {
  const __m256 th = _mm256_set1_ps(threshold);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  std::size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    const __m256 v = _mm256_loadu_ps(a + j);
    const __m256 kept = _mm256_and_ps(_mm256_cmp_ps(v, th, _CMP_GT_OQ), v);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(kept)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(kept, 1)));
  }
  double s = hsum_pd(_mm256_add_pd(s0, s1));
  for (; j < count; ++j) {
    if (a[j] > threshold) s += a[j];
  }
  return s;
}

}  // namespace

double sum_above(const float* a, std::size_t count, float threshold) {
  if (has_avx2_fma()) return sum_above_avx2(a, count, threshold);
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
  return has_avx2_fma() ? exp_shifted_sum_avx2(x, shift, y, count) : ref::exp_shifted_sum(x, shift, y, count);
}

double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,
                 std::size_t* kept) {
  return has_avx2_fma() ? sum_plogp_avx2(p, count, scale, eps, threshold, kept)
                        : ref::sum_plogp(p, count, scale, eps, threshold, kept);
}

float max_value(const float* x, std::size_t count) {
  if (has_avx2_fma()) return max_avx2(x, count);
  float r = x[0];
  for (std::size_t i = 1; i < count; ++i) r = x[i] > r ? x[i] : r;
  return r;
}

}  // namespace bentov::ops
