// The vectorized exp, log and GELU kernels, written once over a vector width S (simd.h) and
// instantiated by vmath_avx2.cpp and vmath_avx512.cpp. exp and log follow Cephes expf/logf
// (S. L. Moshier), as many SIMD libraries do, within 2 ulp of the correctly rounded float. The
// GELU is gelu_erf.cpp's double-precision erf (its comment gives the method and the fits).
// Loops take S-wide vectors, then at most one 8-float vector of the narrower Avx2 width, then
// scalars, so every width sums the same terms in the same order (simd.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

#include "simd.h"

namespace bentov::ops::kernels {
namespace {

template <class S>
typename S::F exp_ps(typename S::F x) {
  x = S::max(S::min(x, S::set1(88.3762626647949f)), S::set1(-87.3365447505531f));
  const typename S::F fx = S::round(S::mul(x, S::set1(1.44269504088896341f)));
  x = S::fnmadd(fx, S::set1(0.693359375f), x);
  x = S::fnmadd(fx, S::set1(-2.12194440e-4f), x);
  typename S::F y = S::set1(1.9875691500e-4f);
  y = S::fmadd(y, x, S::set1(1.3981999507e-3f));
  y = S::fmadd(y, x, S::set1(8.3334519073e-3f));
  y = S::fmadd(y, x, S::set1(4.1665795894e-2f));
  y = S::fmadd(y, x, S::set1(1.6666665459e-1f));
  y = S::fmadd(y, x, S::set1(5.0000001201e-1f));
  y = S::fmadd(y, S::mul(x, x), S::add(x, S::set1(1.0f)));
  const typename S::I e = S::template shl<23>(S::iadd(S::to_int(fx), S::iset1(127)));
  return S::mul(y, S::as_float(e));
}

template <class S>
typename S::F log_ps(typename S::F x) {  // x > 0, normal
  const typename S::I xi = S::as_int(x);
  typename S::F e = S::to_float(S::isub(S::template shr<23>(xi), S::iset1(126)));
  typename S::F m = S::as_float(S::ior(S::iand(xi, S::iset1(0x007fffff)), S::iset1(0x3f000000)));  // [0.5, 1)
  const typename S::Fm small = S::lt(m, S::set1(0.707106781186547524f));
  e = S::sub(e, S::keep(small, S::set1(1.0f)));
  m = S::add(S::sub(m, S::set1(1.0f)), S::keep(small, m));
  const typename S::F z = S::mul(m, m);
  typename S::F y = S::set1(7.0376836292e-2f);
  y = S::fmadd(y, m, S::set1(-1.1514610310e-1f));
  y = S::fmadd(y, m, S::set1(1.1676998740e-1f));
  y = S::fmadd(y, m, S::set1(-1.2420140846e-1f));
  y = S::fmadd(y, m, S::set1(1.4249322787e-1f));
  y = S::fmadd(y, m, S::set1(-1.6668057665e-1f));
  y = S::fmadd(y, m, S::set1(2.0000714765e-1f));
  y = S::fmadd(y, m, S::set1(-2.4999993993e-1f));
  y = S::fmadd(y, m, S::set1(3.3333331174e-1f));
  y = S::mul(S::mul(y, m), z);
  y = S::fmadd(e, S::set1(-2.12194440e-4f), y);
  y = S::fnmadd(z, S::set1(0.5f), y);
  return S::add(S::add(m, y), S::mul(e, S::set1(0.693359375f)));
}

// Two four-double accumulators, fed eight floats at a time: lanes 0-3 to the first, 4-7 to the second.
struct Sums {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  void add8(__m256 v) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  // Chunks c of v whose bit c of `chunks` is set, in order.
  template <class S>
  void add(typename S::F v, unsigned chunks = ~0u) {
    for (int c = 0; c < static_cast<int>(S::kFloats / 8); ++c) {
      if (chunks >> c & 1u) add8(S::chunk(v, c));
    }
  }
  // (x - center)^2 of v's eight floats, widened, by the same lanes.
  void add8_centered_squares(__m256 v, __m256d center) {
    const __m256d a = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), center);
    const __m256d b = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), center);
    lo = _mm256_fmadd_pd(a, a, lo);
    hi = _mm256_fmadd_pd(b, b, hi);
  }
  template <class S>
  void add_centered_squares(typename S::F v, double center) {
    for (int c = 0; c < static_cast<int>(S::kFloats / 8); ++c) add8_centered_squares(S::chunk(v, c), _mm256_set1_pd(center));
  }
  double total() const {
    const __m256d v = _mm256_add_pd(lo, hi);
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};

// Calls f(S{}, i) for S-wide vectors from 0, then f(Avx2{}, i) for one 8-float vector if that
// many are left; returns the index of the first element left to scalars.
template <class S, class F>
std::size_t for_vectors(std::size_t count, F&& f) {
  std::size_t i = 0;
  for (; i + S::kFloats <= count; i += S::kFloats) f(S{}, i);
  if (i + 8 <= count) {
    f(simd::Avx2{}, i);
    i += 8;
  }
  return i;
}

// y[i] = exp(x[i] - shift); returns the sum of the y in double.
template <class S>
double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count) {
  Sums sums;
  const std::size_t tail = for_vectors<S>(count, [&](auto s, std::size_t i) {
    using V = decltype(s);
    const typename V::F v = exp_ps<V>(V::sub(V::load(x + i), V::set1(shift)));
    V::store(y + i, v);
    sums.add<V>(v);
  });
  double sum = sums.total();
  for (std::size_t i = tail; i < count; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

// sum p log(p scale + eps) over the p > threshold, and their count; with kMass, also the sum of
// those p (sum_above's, to the bit: the chunks skipped hold none, and it adds their zeros).
// 8-float chunks with no such p are skipped.
template <class S, bool kMass>
double plogp_sums(const float* p, std::size_t count, double scale, float eps, float threshold, std::size_t* kept,
                  double* mass) {
  Sums sums, masses;
  std::size_t k = 0;
  const std::size_t tail = for_vectors<S>(count, [&](auto s, std::size_t i) {
    using V = decltype(s);
    const typename V::F v = V::load(p + i);
    const typename V::Fm keep = V::gt(v, V::set1(threshold));
    const unsigned bits = V::bits(keep);
    if (bits == 0) return;
    k += static_cast<std::size_t>(__builtin_popcount(bits));
    unsigned chunks = 0;
    for (int c = 0; c < static_cast<int>(V::kFloats / 8); ++c) chunks |= (bits >> (8 * c) & 0xffu) ? 1u << c : 0u;
    // Entries not kept get log(1) = 0 and weight 0.
    const typename V::F arg =
        V::select(keep, V::fmadd(v, V::set1(static_cast<float>(scale)), V::set1(eps)), V::set1(1.0f));
    sums.add<V>(V::keep(keep, V::mul(v, log_ps<V>(arg))), chunks);
    if constexpr (kMass) masses.add<V>(V::keep(keep, v), chunks);
  });
  double sum = sums.total(), kept_mass = masses.total();
  for (std::size_t i = tail; i < count; ++i) {
    if (p[i] > threshold) {
      sum += static_cast<double>(p[i]) * std::log(p[i] * scale + eps);
      kept_mass += p[i];
      ++k;
    }
  }
  if (kept) *kept = k;
  if (mass) *mass = kept_mass;
  return sum;
}

template <class S>
double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold, std::size_t* kept) {
  return plogp_sums<S, false>(p, count, scale, eps, threshold, kept, nullptr);
}

template <class S>
double sum_plogp_and_mass(const float* p, std::size_t count, double scale, float eps, float threshold,
                          double* mass) {
  return plogp_sums<S, true>(p, count, scale, eps, threshold, nullptr, mass);
}

template <class S>
double sum_above(const float* a, std::size_t count, float threshold) {
  Sums sums;
  const std::size_t tail = for_vectors<S>(count, [&](auto s, std::size_t i) {
    using V = decltype(s);
    const typename V::F v = V::load(a + i);
    sums.add<V>(V::keep(V::gt(v, V::set1(threshold)), v));
  });
  double sum = sums.total();
  for (std::size_t i = tail; i < count; ++i) {
    if (a[i] > threshold) sum += a[i];
  }
  return sum;
}

// One row of a layer norm (center: the row's mean) or an RMS norm (center 0, no bias), the
// statistics in double through Sums, then y[i] = float((x[i] - center) * inv * weight[i] + bias[i])
// in double, S::kDoubles at a time and the last few through the same code, padded: the same bits
// at every width. y may be x.
template <class S>
void norm_row(const float* x, float* y, std::size_t d, const float* weight, const float* bias, double eps, bool rms) {
  double center = 0.0;
  if (!rms) {
    Sums sums;
    const std::size_t tail = for_vectors<S>(d, [&](auto s, std::size_t i) {
      using V = decltype(s);
      sums.add<V>(V::load(x + i));
    });
    double sum = sums.total();
    for (std::size_t i = tail; i < d; ++i) sum += x[i];
    center = sum / static_cast<double>(d);
  }
  Sums squares;
  const std::size_t tail = for_vectors<S>(d, [&](auto s, std::size_t i) {
    using V = decltype(s);
    squares.add_centered_squares<V>(V::load(x + i), center);
  });
  double sum_sq = squares.total();
  for (std::size_t i = tail; i < d; ++i) {
    const double v = x[i] - center;
    sum_sq = std::fma(v, v, sum_sq);
  }
  const typename S::D c = S::dset1(center), inv = S::dset1(1.0 / std::sqrt(sum_sq / static_cast<double>(d) + eps));
  auto normalize = [&](const float* xi, const float* wi, const float* bi, float* yi) {
    typename S::D v = S::dmul(S::dmul(S::dsub(S::dload(xi), c), inv), S::dload(wi));
    if (bi) v = S::dadd(v, S::dload(bi));
    S::dstore(yi, v);
  };
  std::size_t i = 0;
  for (; i + S::kDoubles <= d; i += S::kDoubles) normalize(x + i, weight + i, bias ? bias + i : nullptr, y + i);
  if (i < d) {
    float xt[S::kDoubles] = {}, wt[S::kDoubles] = {}, bt[S::kDoubles] = {}, yt[S::kDoubles];  // the last d - i, padded
    const std::size_t bytes = (d - i) * sizeof(float);
    std::memcpy(xt, x + i, bytes);
    std::memcpy(wt, weight + i, bytes);
    if (bias) std::memcpy(bt, bias + i, bytes);
    normalize(xt, wt, bias ? bt : nullptr, yt);
    std::memcpy(y + i, yt, bytes);
  }
}

// The exact GELU (gelu_erf.cpp). Generated by scripts/fit_gelu_erf.py: Z0=1.0, Z_MAX=10.5, P=0.5.
// Largest errors (float64 Horner): erf for z < Z0 7.71e-13 absolute; erfc for z >= Z0 2.61e-13 relative.
constexpr double kErfSmall[9] = {
    4.13877517066136052e-09, -7.55749334899700947e-08, 1.22336262304760098e-06,
    -1.75368246792521293e-05, 2.17517163226120497e-04, -2.28548565695809282e-03,
    1.98524966880859327e-02, -1.40536089015528859e-01, 9.65468738669885029e-01};
constexpr double kErfcLarge[13] = {
    -5.49901498956679902e-09, 1.27497102394128950e-08, 7.79606731206440383e-08,
    -3.36662265769908912e-07, -8.62137902438655734e-07, 6.95368998275493367e-06,
    1.32044175131736287e-05, -1.49947878823559626e-04, -4.84221027930763074e-04,
    3.19443514784020126e-03, 3.29900087155768074e-02, 1.50474378362433880e-01,
    4.55331666395902557e-01};
constexpr double kTLo = 1.60000000000000003e-01, kTHi = 6.66666666666666630e-01;
constexpr double kZSwitch = 1.0;  // Z0 of the fit
constexpr double kZMax = 10.5;    // erfc(10.5) = 1e-49: beyond, erfc is taken as 0
constexpr double kP = 0.5;        // t = 1 / (1 + kP z)

template <class S, std::size_t N>
typename S::D horner(const double (&c)[N], typename S::D s) {
  typename S::D acc = S::dset1(c[0]);
  for (std::size_t i = 1; i < N; ++i) acc = S::dfmadd(acc, s, S::dset1(c[i]));
  return acc;
}

// exp(x) for x in [-111, 0]: x = k ln2 + r, |r| <= ln2 / 2, e^r by Taylor to degree 11.
template <class S>
typename S::D exp_nonpositive(typename S::D x) {
  const typename S::D k = S::dround(S::dmul(x, S::dset1(M_LOG2E)));
  constexpr double kLn2Hi = M_LN2;                   // ln 2 rounded to double
  constexpr double kLn2Lo = 2.3190468138462996e-17;  // ln 2 - kLn2Hi
  typename S::D r = S::dfnmadd(k, S::dset1(kLn2Hi), x);
  r = S::dfnmadd(k, S::dset1(kLn2Lo), r);
  typename S::D p = S::dset1(1.0 / 39916800.0);  // 1/11!
  constexpr double kInvFactorial[11] = {1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                                        1.0 / 720.0,     1.0 / 120.0,    1.0 / 24.0,    1.0 / 6.0,
                                        0.5,             1.0,            1.0};
  for (double c : kInvFactorial) p = S::dfmadd(p, r, S::dset1(c));
  return S::dmul(p, S::dexp2_integral(k));
}

// 1 + erf(x / sqrt 2).
template <class S>
typename S::D one_plus_erf(typename S::D x) {
  const typename S::D z_raw = S::dmul(S::dabs(x), S::dset1(M_SQRT1_2));
  const typename S::Dm beyond = S::dgt(z_raw, S::dset1(kZMax));
  const typename S::D z = S::dmin(z_raw, S::dset1(kZMax));
  const typename S::D z2 = S::dmul(z, z);
  // Small z: erf(z) = z S(2 z^2 / Z0^2 - 1).
  const typename S::D s = S::dfmsub(z2, S::dset1(2.0 / (kZSwitch * kZSwitch)), S::dset1(1.0));
  const typename S::D erf_small = S::dmul(z, horner<S>(kErfSmall, s));
  // Large z: erfc(z) = exp(-z^2) t L(u).
  const typename S::D t = S::ddiv(S::dset1(1.0), S::dfmadd(z, S::dset1(kP), S::dset1(1.0)));
  const double scale = 2.0 / (kTHi - kTLo);
  const typename S::D u = S::dfmadd(t, S::dset1(scale), S::dset1(-kTLo * scale - 1.0));
  const typename S::D erfc_large = S::dzero_where(
      beyond, S::dmul(S::dmul(exp_nonpositive<S>(S::dsub(S::dzero(), z2)), t), horner<S>(kErfcLarge, u)));
  const typename S::D one = S::dset1(1.0), two = S::dset1(2.0);
  const typename S::Dm small = S::dlt(z, S::dset1(kZSwitch));
  const typename S::Dm negative = S::dlt(x, S::dzero());
  const typename S::D pos = S::dselect(small, S::dadd(one, erf_small), S::dsub(two, erfc_large));
  const typename S::D neg = S::dselect(small, S::dsub(one, erf_small), erfc_large);
  return S::dselect(negative, neg, pos);
}

template <class S>
void gelu_erf_vector(float* x) {  // x[0 .. S::kDoubles)
  const typename S::D v = S::dload(x);
  S::dstore(x, S::dmul(S::dmul(S::dset1(0.5), v), one_plus_erf<S>(v)));
}

// Every element goes through the same vector code, the last few too (padded), so that an
// element's result depends on its value only, never on where a caller's chunk starts or ends
// (the MLP splits its activations over the workers) or on the width.
template <class S>
void gelu_erf(float* x, std::size_t count) {
  std::size_t i = 0;
  for (; i + S::kDoubles <= count; i += S::kDoubles) gelu_erf_vector<S>(x + i);
  if (i < count) {
    float tail[S::kDoubles] = {};
    std::memcpy(tail, x + i, (count - i) * sizeof(float));
    gelu_erf_vector<S>(tail);
    std::memcpy(x + i, tail, (count - i) * sizeof(float));
  }
}

}  // namespace
}  // namespace bentov::ops::kernels
