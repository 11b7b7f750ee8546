// Vector types for kernels written once and compiled for two widths: Avx2 (8 floats, 4 doubles)
// and Avx512 (16 floats, 8 doubles), each visible in a translation unit compiled for it
// (vmath_avx2.cpp with -mavx2 -mfma, vmath_avx512.cpp with -mavx512f/dq/bw/vl). A kernel takes
// the same operations in the same order at either width, so an element's result does not
// depend on the width; sums go through sum_chunks, which adds eight floats at a time into two
// four-double accumulators in the order the AVX2 width does, so their rounding does not either.
// Everything here has internal linkage: each translation unit keeps its own copy, compiled for
// its own instruction set (no inline function of one width can stand in for the other's).
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace bentov::ops::simd {
namespace {

#ifdef __AVX2__
struct Avx2 {
  static constexpr std::size_t kFloats = 8, kDoubles = 4;
  using F = __m256;   // floats
  using Fm = __m256;  // a float comparison: all-ones lanes
  using I = __m256i;  // 32-bit integers, one per float
  using D = __m256d;  // doubles
  using Dm = __m256d;

  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Fm gt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static Fm lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F keep(Fm m, F v) { return _mm256_and_ps(m, v); }                // m ? v : 0
  static F select(Fm m, F yes, F no) { return _mm256_blendv_ps(no, yes, m); }
  static unsigned bits(Fm m) { return static_cast<unsigned>(_mm256_movemask_ps(m)); }
  static I to_int(F a) { return _mm256_cvtps_epi32(a); }
  static F to_float(I a) { return _mm256_cvtepi32_ps(a); }
  static I as_int(F a) { return _mm256_castps_si256(a); }
  static F as_float(I a) { return _mm256_castsi256_ps(a); }
  static I iset1(int v) { return _mm256_set1_epi32(v); }
  static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
  static I isub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I iand(I a, I b) { return _mm256_and_si256(a, b); }
  static I ior(I a, I b) { return _mm256_or_si256(a, b); }
  template <int k> static I shl(I a) { return _mm256_slli_epi32(a, k); }
  template <int k> static I shr(I a) { return _mm256_srli_epi32(a, k); }
  // Chunk c (8 floats) of v, c < kFloats / 8.
  static __m256 chunk(F v, int) { return v; }

  static D dset1(double v) { return _mm256_set1_pd(v); }
  static D dzero() { return _mm256_setzero_pd(); }
  static D dload(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }  // kDoubles floats, widened
  static void dstore(float* p, D v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }   // rounded to float
  static D dadd(D a, D b) { return _mm256_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D ddiv(D a, D b) { return _mm256_div_pd(a, b); }
  static D dfmadd(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static D dfnmadd(D a, D b, D c) { return _mm256_fnmadd_pd(a, b, c); }
  static D dfmsub(D a, D b, D c) { return _mm256_fmsub_pd(a, b, c); }
  static D dmin(D a, D b) { return _mm256_min_pd(a, b); }
  static D dabs(D a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static D dround(D a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Dm dgt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static Dm dlt(D a, D b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static D dzero_where(Dm m, D v) { return _mm256_andnot_pd(m, v); }  // m ? 0 : v
  static D dselect(Dm m, D yes, D no) { return _mm256_blendv_pd(no, yes, m); }
  // 2^k for integral k in [-1022, 1023] held as doubles.
  static D dexp2_integral(D k) {
    const __m256i k64 = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k));
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k64, _mm256_set1_epi64x(1023)), 52));
  }
};
#endif

#ifdef __AVX512F__
struct Avx512 {
  static constexpr std::size_t kFloats = 16, kDoubles = 8;
  using F = __m512;
  using Fm = __mmask16;
  using I = __m512i;
  using D = __m512d;
  using Dm = __mmask8;

  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Fm gt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static Fm lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static F keep(Fm m, F v) { return _mm512_maskz_mov_ps(m, v); }
  static F select(Fm m, F yes, F no) { return _mm512_mask_blend_ps(m, no, yes); }
  static unsigned bits(Fm m) { return static_cast<unsigned>(m); }
  static I to_int(F a) { return _mm512_cvtps_epi32(a); }
  static F to_float(I a) { return _mm512_cvtepi32_ps(a); }
  static I as_int(F a) { return _mm512_castps_si512(a); }
  static F as_float(I a) { return _mm512_castsi512_ps(a); }
  static I iset1(int v) { return _mm512_set1_epi32(v); }
  static I iadd(I a, I b) { return _mm512_add_epi32(a, b); }
  static I isub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I iand(I a, I b) { return _mm512_and_si512(a, b); }
  static I ior(I a, I b) { return _mm512_or_si512(a, b); }
  template <int k> static I shl(I a) { return _mm512_slli_epi32(a, k); }
  template <int k> static I shr(I a) { return _mm512_srli_epi32(a, k); }
  static __m256 chunk(F v, int c) {
    return c == 0 ? _mm512_castps512_ps256(v) : _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  }

  static D dset1(double v) { return _mm512_set1_pd(v); }
  static D dzero() { return _mm512_setzero_pd(); }
  static D dload(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static void dstore(float* p, D v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
  static D dadd(D a, D b) { return _mm512_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D ddiv(D a, D b) { return _mm512_div_pd(a, b); }
  static D dfmadd(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static D dfnmadd(D a, D b, D c) { return _mm512_fnmadd_pd(a, b, c); }
  static D dfmsub(D a, D b, D c) { return _mm512_fmsub_pd(a, b, c); }
  static D dmin(D a, D b) { return _mm512_min_pd(a, b); }
  static D dabs(D a) { return _mm512_abs_pd(a); }
  static D dround(D a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static Dm dgt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static Dm dlt(D a, D b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static D dzero_where(Dm m, D v) { return _mm512_maskz_mov_pd(static_cast<Dm>(~m), v); }
  static D dselect(Dm m, D yes, D no) { return _mm512_mask_blend_pd(m, no, yes); }
  static D dexp2_integral(D k) {
    const __m512i k64 = _mm512_cvtepi32_epi64(_mm512_cvtpd_epi32(k));
    return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(k64, _mm512_set1_epi64(1023)), 52));
  }
};
#endif

}  // namespace
}  // namespace bentov::ops::simd
