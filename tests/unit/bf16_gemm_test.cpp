// The CPU's bf16 products (ops/bf16_gemm.h): rounding as torch's .to(torch.bfloat16), and
// oneDNN's matmul against a double-precision product of the same bf16 operands.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "bentov/error.h"
#include "bentov/ops/bf16_gemm.h"

namespace {

using bentov::ops::to_bf16;

float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
float bf16_value(std::uint16_t b) { return bits_to_float(static_cast<std::uint32_t>(b) << 16); }

TEST(Bf16Rounding, NearestWithTiesToEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(to_bf16(bits_to_float(0x3f808000u)), 0x3f80);  // halfway, even below
  EXPECT_EQ(to_bf16(bits_to_float(0x3f818000u)), 0x3f82);  // halfway, even above
  EXPECT_EQ(to_bf16(bits_to_float(0x3f808001u)), 0x3f81);  // past halfway
  EXPECT_EQ(to_bf16(bits_to_float(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(to_bf16(bits_to_float(0x7f7fffffu)), 0x7f80);  // past the largest bf16: infinity
  EXPECT_EQ(to_bf16(INFINITY), 0x7f80);
  EXPECT_EQ(to_bf16(-INFINITY), 0xff80);
  EXPECT_TRUE(std::isnan(bf16_value(to_bf16(NAN))));
  EXPECT_TRUE(std::isnan(bf16_value(to_bf16(bits_to_float(0x7f800001u)))));  // a NaN whose payload would round away
  EXPECT_EQ(to_bf16(bits_to_float(0x00000001u)), 0x0000);  // the smallest subnormal rounds to zero
}

TEST(Bf16Rounding, ValuesInPlaceAreTheRoundedOnes) {
  std::vector<float> x = {1.0f, 3.14159265f, -1e-20f, 65504.0f, 1e38f};
  std::vector<std::uint16_t> b(x.size());
  bentov::ops::round_to_bf16(x.data(), b.data(), x.size());
  bentov::ops::round_to_bf16_values(x.data(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], bf16_value(b[i])) << i;
}

struct Operands {
  std::vector<std::uint16_t> a, b;  // (m, lda) and (k, ldb) or (n, ldb) transposed
  std::vector<float> c;             // (m, ldc)
};

// C (m, n) = A B + beta C0 in double from the same bf16 operands; |error| within float32
// accumulation's k * 2^-23 of sum |a b|.
void expect_product(int m, int n, int k, bool transposed, float beta) {
  const int lda = k + 3, ldb = (transposed ? k : n) + 5, ldc = n + 7;
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 7 + k + (transposed ? 1 : 0)));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Operands o;
  o.a.resize(static_cast<std::size_t>(m) * lda);
  o.b.resize(static_cast<std::size_t>(transposed ? n : k) * ldb);
  o.c.resize(static_cast<std::size_t>(m) * ldc);
  for (auto& v : o.a) v = to_bf16(normal(rng));
  for (auto& v : o.b) v = to_bf16(normal(rng));
  for (auto& v : o.c) v = normal(rng);
  const std::vector<float> c0 = o.c;
  auto b_at = [&](int i, int j) { return bf16_value(transposed ? o.b[static_cast<std::size_t>(j) * ldb + i] : o.b[static_cast<std::size_t>(i) * ldb + j]); };
  bentov::ops::gemm_bf16(m, n, k, o.a.data(), lda, o.b.data(), transposed, ldb, beta, o.c.data(), ldc);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double want = beta * c0[static_cast<std::size_t>(i) * ldc + j], scale = std::fabs(want);
      for (int p = 0; p < k; ++p) {
        const double t = static_cast<double>(bf16_value(o.a[static_cast<std::size_t>(i) * lda + p])) * b_at(p, j);
        want += t;
        scale += std::fabs(t);
      }
      const double got = o.c[static_cast<std::size_t>(i) * ldc + j];
      ASSERT_LE(std::fabs(got - want), (k + 2) * 0x1p-23 * scale + 1e-30)
          << "m=" << m << " n=" << n << " k=" << k << " transposed=" << transposed << " at " << i << "," << j;
    }
    for (int j = n; j < ldc; ++j) {  // past the n columns nothing is written
      ASSERT_EQ(o.c[static_cast<std::size_t>(i) * ldc + j], c0[static_cast<std::size_t>(i) * ldc + j]);
    }
  }
}

TEST(Bf16Gemm, MatchesADoubleProductOfTheSameOperands) {
  if (!bentov::ops::bf16_products_compiled()) GTEST_SKIP() << "built without oneDNN";
  for (bool transposed : {false, true}) {
    for (float beta : {0.0f, 1.0f}) {
      expect_product(37, 70, 129, transposed, beta);
      expect_product(128, 64, 768, transposed, beta);
      expect_product(1, 1, 1, transposed, beta);
    }
  }
}

TEST(Bf16Gemm, SameBitsFromAnyThread) {
  if (!bentov::ops::bf16_products_compiled()) GTEST_SKIP() << "built without oneDNN";
  const int m = 64, n = 96, k = 200;
  std::vector<std::uint16_t> a(m * k), b(n * k);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = to_bf16(std::sin(static_cast<float>(i)));
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = to_bf16(std::cos(static_cast<float>(i) * 0.7f));
  std::vector<float> here(m * n), there(m * n);
  bentov::ops::gemm_bf16(m, n, k, a.data(), k, b.data(), true, k, 0.0f, here.data(), n);
  std::thread([&] { bentov::ops::gemm_bf16(m, n, k, a.data(), k, b.data(), true, k, 0.0f, there.data(), n); }).join();
  EXPECT_EQ(std::memcmp(here.data(), there.data(), here.size() * sizeof(float)), 0);
}

TEST(Bf16Gemm, WithoutOneDnnSaysHowToGetIt) {
  if (bentov::ops::bf16_products_compiled()) {
    EXPECT_NE(bentov::ops::bf16_products_isa(), "not built");
    GTEST_SKIP() << "built with oneDNN (" << bentov::ops::bf16_products_isa() << ")";
  }
  std::uint16_t one = to_bf16(1.0f);
  float c = 0.0f;
  try {
    bentov::ops::gemm_bf16(1, 1, 1, &one, 1, &one, false, 1, 0.0f, &c, 1);
    FAIL() << "no error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), bentov::ErrorKind::kUnsupported);
    EXPECT_FALSE(e.hint().empty());
  }
}

}  // namespace
