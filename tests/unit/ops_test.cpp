// Each optimized kernel against its plain scalar reference (ops::ref) and closed forms.
#include "bentov/ops/ops.h"
#include "bentov/ops/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <limits>
#include <vector>

#include "support/compare.h"

using bentov::testing::AllClose;

namespace {

std::vector<float> random_vec(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct GemmCase {
  bool ta, tb;
  int m, n, k;
};

class Gemm : public ::testing::TestWithParam<GemmCase> {};

TEST_P(Gemm, MatchesScalarReference) {
  const auto c = GetParam();
  // Strided operands: leading dimensions larger than the logical width, as in the decoder's
  // per-head views into the (n, 3d) QKV buffer.
  const int lda = (c.ta ? c.m : c.k) + 3, ldb = (c.tb ? c.k : c.n) + 5, ldc = c.n + 2;
  const auto A = random_vec(static_cast<std::size_t>((c.ta ? c.k : c.m) * lda), 1);
  const auto B = random_vec(static_cast<std::size_t>((c.tb ? c.n : c.k) * ldb), 2);
  auto C = random_vec(static_cast<std::size_t>(c.m * ldc), 3);
  auto C_ref = C;
  bentov::ops::gemm(c.ta, c.tb, c.m, c.n, c.k, 0.5f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), ldc);
  bentov::ops::ref::gemm(c.ta, c.tb, c.m, c.n, c.k, 0.5f, A.data(), lda, B.data(), ldb, 0.0f, C_ref.data(), ldc);
  EXPECT_TRUE(AllClose(C, C_ref, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Ops, Gemm,
                         ::testing::Values(GemmCase{false, false, 7, 5, 3}, GemmCase{false, true, 17, 33, 64},
                                           GemmCase{true, false, 9, 4, 21}, GemmCase{true, true, 65, 70, 40},
                                           GemmCase{false, true, 100, 100, 16}));

TEST(Ops, CausalSoftmaxMatchesReferenceAndMasks) {
  const int n = 37;
  auto s = random_vec(static_cast<std::size_t>(n * n), 4, 8.0f);
  auto s_ref = s;
  bentov::ops::causal_softmax(s.data(), n);
  bentov::ops::ref::causal_softmax(s_ref.data(), n);
  EXPECT_TRUE(AllClose(s, s_ref, 1e-7));
  for (int q = 0; q < n; ++q) {
    double sum = 0;
    for (int k = 0; k < n; ++k) {
      if (k > q) EXPECT_EQ(s[static_cast<std::size_t>(q * n + k)], 0.0f);
      sum += s[static_cast<std::size_t>(q * n + k)];
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
  EXPECT_EQ(s[0], 1.0f);  // the first token attends only to itself
}

TEST(Ops, LayerNormMatchesReference) {
  const int rows = 5, d = 48;
  auto x = random_vec(rows * d, 5, 3.0f);
  auto x_ref = x;
  const auto w = random_vec(d, 6), b = random_vec(d, 7);
  bentov::ops::layer_norm(x.data(), rows, d, w.data(), b.data(), 1e-5);
  bentov::ops::ref::layer_norm(x_ref.data(), rows, d, w.data(), b.data(), 1e-5);
  EXPECT_TRUE(AllClose(x, x_ref, 1e-6));
}

// Rows whose width is no multiple of the vectors (the tails padded), out of place, without a
// bias, far from zero mean (the variance of a row centred in double), and under BENTOV_SIMD's
// scalar fallback alike.
TEST(Ops, NormsMatchReferenceAtAnyWidth) {
  for (const int d : {1, 3, 8, 13, 37, 768, 771}) {
    const int rows = 3;
    auto x = random_vec(rows * d, 11 + d, 2.0f);
    for (auto& v : x) v += 1000.0f;
    const auto w = random_vec(d, 12), b = random_vec(d, 13);
    std::vector<float> y(x.size()), y_nobias(x.size()), rms(x.size());
    bentov::ops::layer_norm_to(x.data(), y.data(), rows, d, w.data(), b.data(), 1e-5);
    bentov::ops::layer_norm_to(x.data(), y_nobias.data(), rows, d, w.data(), nullptr, 1e-5);
    bentov::ops::rms_norm_to(x.data(), rms.data(), rows, d, w.data(), 1e-6);
    auto ref = x;
    bentov::ops::ref::layer_norm(ref.data(), rows, d, w.data(), b.data(), 1e-5);
    EXPECT_TRUE(AllClose(y, ref, 1e-5)) << d;
    for (int r = 0; r < rows; ++r) {
      long double ss = 0;
      for (int i = 0; i < d; ++i) ss += static_cast<long double>(x[r * d + i]) * x[r * d + i];
      const long double inv = 1.0L / std::sqrt(ss / d + 1e-6L);
      for (int i = 0; i < d; ++i) {
        const std::size_t k = static_cast<std::size_t>(r * d + i);
        EXPECT_FLOAT_EQ(rms[k], static_cast<float>(x[k] * inv * w[i])) << d << " " << i;
        EXPECT_NEAR(y_nobias[k], ref[k] - b[i], 1e-5) << d << " " << i;
      }
    }
  }
}

TEST(Ops, ActivationsClosedForms) {
  std::vector<float> x = {-3.0f, -1.0f, 0.0f, 0.5f, 2.0f};
  auto g = x, t = x, r = x;
  bentov::ops::gelu_erf(g.data(), g.size());
  bentov::ops::gelu_tanh(t.data(), t.size());
  bentov::ops::relu(r.data(), r.size());
  // gelu(1) = 0.5 * (1 + erf(1/sqrt 2)) = 0.8413447460685429
  EXPECT_NEAR(-g[1], 0.15865525393145707, 1e-7);
  EXPECT_NEAR(g[4], 1.9544997361036416, 1e-6);
  // gelu_new(2) = 0.5*2*(1+tanh(sqrt(2/pi)*(2+0.044715*8))) = 1.9545976940871754
  EXPECT_NEAR(t[4], 1.9545976940871754, 1e-6);
  EXPECT_EQ(r, (std::vector<float>{0, 0, 0, 0.5f, 2.0f}));
}

// The vectorized exact GELU against glibc's erf in double, over a dense sweep, the fit's switch
// point, both tails, signed zeros, infinities and NaN. Both round a double to float once, so they
// agree to one float ulp, except in the negative tail: there the reference's 1 + erf(x / sqrt 2)
// loses digits to cancellation (its absolute error is up to 2^-53 per unit of 1), while the kernel
// computes erfc directly; the allowance adds that error of the reference, 0.5 |x| 2^-52.
TEST(Ops, GeluErfMatchesScalarDoubleReference) {
  std::vector<float> x;
  for (int i = -240000; i <= 240000; ++i) x.push_back(static_cast<float>(i) * 5e-5f);  // [-12, 12]
  for (float v : {1.41421354f, 1.41421366f, -1.41421354f, -1.41421366f, 14.849242f, -14.849242f, 30.0f,
                  -30.0f, 1e30f, -1e30f, 1e-40f, -1e-40f, 0.0f, -0.0f}) {
    x.push_back(v);
  }
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  auto fast = x, slow = x;
  bentov::ops::gelu_erf(fast.data(), fast.size());
  bentov::ops::ref::gelu_erf(slow.data(), slow.size());
  std::size_t central = 0, identical = 0;  // |x| <= 4, where the reference keeps every digit
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(slow[i])) {
      EXPECT_TRUE(std::isnan(fast[i])) << "x = " << x[i];
      continue;
    }
    const bool in_center = std::fabs(x[i]) <= 4.0f;
    central += in_center;
    if (fast[i] == slow[i]) {
      identical += in_center;
      continue;
    }
    const double ulp = std::fabs(static_cast<double>(std::nextafter(slow[i], fast[i])) - slow[i]);
    const double cancellation = 0.5 * std::fabs(static_cast<double>(x[i])) * 0x1p-52;
    EXPECT_LE(std::fabs(static_cast<double>(fast[i]) - slow[i]), ulp + cancellation)
        << "x = " << x[i] << ": " << fast[i] << " vs " << slow[i];
  }
  EXPECT_GE(static_cast<double>(identical), 0.99 * static_cast<double>(central));
}

TEST(Ops, RotaryRotatesPairsByPositionAngle) {
  // rot_dims 4: pairs (0,2) and (1,3); inv_freq = {1, base^-0.5}.
  const int n = 3, rot = 4;
  const double base = 100.0;
  std::vector<float> cos_t(n * rot / 2), sin_t(n * rot / 2);
  bentov::ops::RopeSchedule schedule;
  schedule.theta = base;
  bentov::ops::rotary_tables(n, rot, schedule, cos_t.data(), sin_t.data());
  EXPECT_FLOAT_EQ(cos_t[0], 1.0f);                    // position 0: no rotation
  EXPECT_FLOAT_EQ(cos_t[2], std::cos(1.0f));          // position 1, freq 1
  EXPECT_FLOAT_EQ(sin_t[3], std::sin(0.1f));          // position 1, freq 100^-0.5
  std::vector<float> v = {1, 0, 0, 1, 9};             // dim 4 is beyond rot: untouched
  bentov::ops::apply_rotary(v.data(), rot, cos_t.data() + 2, sin_t.data() + 2);
  EXPECT_FLOAT_EQ(v[0], std::cos(1.0f));              // x1 cos - x2 sin with x2 = 0
  EXPECT_FLOAT_EQ(v[2], std::sin(1.0f));              // x2 cos + x1 sin
  EXPECT_FLOAT_EQ(v[1], -std::sin(0.1f));
  EXPECT_FLOAT_EQ(v[3], std::cos(0.1f));
  EXPECT_EQ(v[4], 9.0f);
}

TEST(Ops, RopeInvFreqSchedules) {
  // rot_dims 6, theta 10000: default inv_freq = 10000^(-2i/6) = {1, 10000^(-1/3), 10000^(-2/3)}
  // = {1, 0.046416, 0.0021544}, wavelengths 2 pi / f = {6.283, 135.37, 2916.4}.
  bentov::ops::RopeSchedule s;
  std::vector<float> inv(3);
  bentov::ops::rope_inv_freq(6, s, inv.data());
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  EXPECT_NEAR(inv[1], 0.0464159, 1e-6);
  EXPECT_NEAR(inv[2], 0.00215443, 1e-8);
  // linear: every frequency divided by the factor (positions stretched by it).
  s.kind = bentov::ops::RopeSchedule::Kind::kLinear;
  s.factor = 4.0;
  std::vector<float> lin(3);
  bentov::ops::rope_inv_freq(6, s, lin.data());
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(lin[i], inv[i] / 4.0f) << i;
  // llama3 with original 256 positions, low 1, high 4, factor 8: wavelengths under
  // 256 / 4 = 64 are kept (6.283), over 256 / 1 = 256 divided by 8 (2916.4), and 135.37 sits
  // between: smooth = (256 / 135.37 - 1) / (4 - 1) = 0.29705, f = (1 - smooth) f / 8 + smooth f
  // = 0.046416 * (0.70298 / 8 + 0.29702) = 0.017866.
  s.kind = bentov::ops::RopeSchedule::Kind::kLlama3;
  s.factor = 8.0;
  s.original_max_positions = 256;
  std::vector<float> l3(3);
  bentov::ops::rope_inv_freq(6, s, l3.data());
  EXPECT_FLOAT_EQ(l3[0], 1.0f);
  EXPECT_NEAR(l3[1], 0.017866, 2e-6);
  EXPECT_FLOAT_EQ(l3[2], inv[2] / 8.0f);
}

TEST(Ops, TanhSoftcapBendsScoresTowardTheCap) {
  // cap 5: 0 -> 0, 5 -> 5 tanh(1) = 3.8080, -100 -> -5 tanh(20) = -5 (to float), small x
  // almost unchanged (0.5 -> 5 tanh(0.1) = 0.49834); columns past `cols` untouched.
  std::vector<float> rows = {0.0f, 5.0f, 7.0f,  //
                             -100.0f, 0.5f, 7.0f};
  bentov::ops::tanh_softcap(rows.data(), 2, 2, 3, 5.0f);
  EXPECT_EQ(rows[0], 0.0f);
  EXPECT_NEAR(rows[1], 3.80797, 1e-5);
  EXPECT_EQ(rows[2], 7.0f);
  EXPECT_FLOAT_EQ(rows[3], -5.0f);
  EXPECT_NEAR(rows[4], 0.498340, 1e-6);
  EXPECT_EQ(rows[5], 7.0f);
}

}  // namespace

#include "bentov/ops/convert.h"
#include "bentov/ops/parallel.h"

#include <atomic>
#include <stdexcept>

namespace {

TEST(Ops, HalfWideningMatchesScalarForEveryValue) {
  // All 65536 bit patterns, at an odd length so the vector loop's tail runs too.
  std::vector<std::uint16_t> all(65536 + 3);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<float> fast(all.size());
  bentov::ops::f16_to_f32(all.data(), fast.data(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const float want = bentov::ops::ref::f16_to_f32(all[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(fast[i])) << i;
    } else {
      ASSERT_EQ(fast[i], want) << "bits " << i;
    }
  }
  std::vector<std::uint16_t> bf = {0x3f80, 0xc040, 0x0000, 0x8000, 0x7f80};
  std::vector<float> out(bf.size());
  bentov::ops::bf16_to_f32(bf.data(), out.data(), bf.size());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  EXPECT_TRUE(std::isinf(out[4]));
}

TEST(Ops, ParallelForVisitsEveryItemOnceAndPropagatesErrors) {
  std::vector<std::atomic<int>> seen(37);
  bentov::ops::parallel_for(37, 4, [&](int i, int worker) {
    EXPECT_GE(worker, 0);
    EXPECT_LT(worker, 4);
    seen[static_cast<std::size_t>(i)]++;
  });
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
  EXPECT_THROW(bentov::ops::parallel_for(10, 3,
                                         [](int i, int) {
                                           if (i == 5) throw std::runtime_error("head failed");
                                         }),
               std::runtime_error);
}

}  // namespace

#include "bentov/ops/vmath.h"

namespace {

TEST(Ops, VectorExpWithinTwoUlpOfLibm) {
  std::vector<float> x;
  for (float v = -90.0f; v <= 0.0f; v += 0.0137f) x.push_back(v);
  std::vector<float> y(x.size()), y_ref(x.size());
  const double sum = bentov::ops::exp_shifted_sum(x.data(), 0.0f, y.data(), x.size());
  const double sum_ref = bentov::ops::ref::exp_shifted_sum(x.data(), 0.0f, y_ref.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i] < -87.0f) continue;  // clamped near the float underflow
    EXPECT_NEAR(y[i], y_ref[i], 2.5e-7 * y_ref[i]) << "exp(" << x[i] << ")";
  }
  EXPECT_NEAR(sum, sum_ref, 1e-6 * sum_ref);
}

TEST(Ops, VectorPlogpMatchesScalar) {
  auto p = random_vec(1003, 9);
  for (auto& v : p) v = std::fabs(v) * 1e-3f;
  p[5] = 1e-12f;  // below the threshold: excluded
  p[6] = 0.0f;
  std::size_t kept = 0, kept_ref = 0;
  const double scale = 1.0 / 0.5;
  const double got = bentov::ops::sum_plogp(p.data(), p.size(), scale, 1e-10f, 1e-10f, &kept);
  const double want = bentov::ops::ref::sum_plogp(p.data(), p.size(), scale, 1e-10f, 1e-10f, &kept_ref);
  EXPECT_EQ(kept, kept_ref);
  EXPECT_EQ(kept, 1001u);
  EXPECT_NEAR(got, want, 1e-6 * std::fabs(want));
  // The fused pass gives both sums' bits.
  for (const std::size_t count : {0u, 5u, 8u, 17u, 40u, 1003u}) {
    double mass = -1.0;
    EXPECT_EQ(bentov::ops::sum_plogp_and_mass(p.data(), count, scale, 1e-10f, 1e-10f, &mass),
              bentov::ops::sum_plogp(p.data(), count, scale, 1e-10f, 1e-10f)) << count;
    EXPECT_EQ(mass, bentov::ops::sum_above(p.data(), count, 1e-10f)) << count;
  }
}

// The row helpers of the attention and its metrics, over lengths with and without a tail:
// scale and add_widened element by element (exactly the scalar results), distance_sums within
// double rounding of a long double reference.
TEST(Ops, RowHelpersMatchTheirDefinitions) {
  for (const std::size_t count : {0u, 1u, 7u, 8u, 9u, 31u, 1003u}) {
    const auto x = random_vec(count, 40 + static_cast<unsigned>(count));
    std::vector<float> scaled = x, want_scaled = x;
    bentov::ops::scale(scaled.data(), count, 0.37f);
    for (auto& v : want_scaled) v *= 0.37f;
    EXPECT_EQ(scaled, want_scaled) << count;

    std::vector<double> sum(count, 0.25), want_sum(count, 0.25);
    bentov::ops::add_widened(sum.data(), x.data(), count);
    for (std::size_t i = 0; i < count; ++i) want_sum[i] += static_cast<double>(x[i]);
    EXPECT_EQ(sum, want_sum) << count;

    std::vector<double> a(count);
    for (std::size_t i = 0; i < count; ++i) a[i] = std::fabs(static_cast<double>(x[i])) + 1e-3;
    const double d0 = static_cast<double>(count) + 4.0;
    long double mass = 0, weighted = 0;
    for (std::size_t k = 0; k < count; ++k) {
      mass += a[k];
      weighted += static_cast<long double>(a[k]) * (static_cast<long double>(d0) - static_cast<long double>(k));
    }
    double got_mass = -1, got_weighted = -1;
    bentov::ops::distance_sums(a.data(), count, d0, &got_mass, &got_weighted);
    EXPECT_NEAR(got_mass, static_cast<double>(mass), 1e-14 * static_cast<double>(mass) + 1e-300) << count;
    EXPECT_NEAR(got_weighted, static_cast<double>(weighted), 1e-14 * static_cast<double>(weighted) + 1e-300) << count;
  }
}

// causal_softmax_rows writes a block's columns 0 .. r1 - 1 and leaves the rest of each row.
TEST(Ops, CausalSoftmaxRowsLeavesColumnsPastTheBlock) {
  const int n = 40, r0 = 16, r1 = 24;
  auto rows = random_vec(static_cast<std::size_t>(r1 - r0) * n, 77);
  const auto before = rows;
  bentov::ops::causal_softmax_rows(rows.data(), r0, r1, n, 0);
  for (int q = r0; q < r1; ++q) {
    const float* row = rows.data() + static_cast<std::size_t>(q - r0) * n;
    double total = 0;
    for (int k = 0; k <= q; ++k) total += row[k];
    EXPECT_NEAR(total, 1.0, 1e-6) << q;
    for (int k = q + 1; k < r1; ++k) EXPECT_EQ(row[k], 0.0f) << q << " " << k;
    for (int k = r1; k < n; ++k) EXPECT_EQ(row[k], before[static_cast<std::size_t>(q - r0) * n + k]) << q << " " << k;
  }
}

}  // namespace

#include "ops/vmath_isa.h"

namespace {

// The AVX-512 kernels give the AVX2 kernels' bits: every element and every sum, over lengths
// that end in each kind of tail (16-wide, one 8-wide vector, scalars), with chunks skipped.
TEST(Ops, VectorKernelsGiveTheSameBitsAtEveryWidth) {
  if (bentov::ops::cpu_isa() != bentov::ops::Isa::kAvx512) GTEST_SKIP() << "this CPU runs no AVX-512";
  namespace w2 = bentov::ops::avx2;
  namespace w5 = bentov::ops::avx512;
  for (const std::size_t count : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 24u, 31u, 33u, 1000u, 1003u, 1011u}) {
    auto x = random_vec(count, 21 + static_cast<unsigned>(count));
    std::vector<float> p(count);
    for (std::size_t i = 0; i < count; ++i) p[i] = (i / 8) % 3 == 1 ? 0.0f : std::fabs(x[i]) * 1e-3f;  // zero chunks
    std::vector<float> y2(count), y5(count);
    const double e2 = w2::exp_shifted_sum(x.data(), 0.5f, y2.data(), count);
    const double e5 = w5::exp_shifted_sum(x.data(), 0.5f, y5.data(), count);
    EXPECT_EQ(e2, e5) << count;
    EXPECT_EQ(y2, y5) << count;
    std::size_t k2 = 0, k5 = 0;
    EXPECT_EQ(w2::sum_plogp(p.data(), count, 2.0, 1e-10f, 1e-10f, &k2),
              w5::sum_plogp(p.data(), count, 2.0, 1e-10f, 1e-10f, &k5)) << count;
    EXPECT_EQ(k2, k5);
    EXPECT_EQ(w2::sum_above(x.data(), count, 0.1f), w5::sum_above(x.data(), count, 0.1f)) << count;
    double m2 = -1.0, m5 = -2.0;
    EXPECT_EQ(w2::sum_plogp_and_mass(p.data(), count, 2.0, 1e-10f, 1e-10f, &m2),
              w5::sum_plogp_and_mass(p.data(), count, 2.0, 1e-10f, 1e-10f, &m5)) << count;
    EXPECT_EQ(m2, m5) << count;
    std::vector<float> g2 = x, g5 = x;
    for (auto& v : g2) v *= 4.0f;
    for (auto& v : g5) v *= 4.0f;
    w2::gelu_erf(g2.data(), count);
    w5::gelu_erf(g5.data(), count);
    EXPECT_EQ(g2, g5) << count;
    if (count > 0) {
      std::vector<float> n2(count), n5(count);
      const auto w = random_vec(count, 5);
      for (const bool rms : {false, true}) {
        w2::norm_row(x.data(), n2.data(), count, w.data(), rms ? nullptr : w.data(), 1e-5, rms);
        w5::norm_row(x.data(), n5.data(), count, w.data(), rms ? nullptr : w.data(), 1e-5, rms);
        EXPECT_EQ(n2, n5) << count << " rms " << rms;
      }
    }
  }
}

}  // namespace
