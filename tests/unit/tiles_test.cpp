// The product tiling of ops/tiles.h and the one OpenBLAS property it relies on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "bentov/ops/blas_kernels.h"
#include "bentov/ops/ops.h"
#include "bentov/ops/parallel.h"
#include "bentov/ops/tiles.h"

namespace {

// Every output element in exactly one tile: tiles inside the output, pairwise disjoint, their
// areas summing to the output's; column tiles start on multiples of 16.
TEST(ProductTiles, CoverTheOutputOnce) {
  for (int rows : {1, 2, 7, 300, 512, 513, 2048, 5000}) {
    for (int cols : {1, 16, 50, 128, 384, 768, 2304, 3072, 16384, 50304}) {
      const auto t = bentov::ops::product_tiles(rows, cols);
      long long area = 0;
      for (int i = 0; i < t.count(); ++i) {
        const auto a = t.tile(i);
        ASSERT_TRUE(0 <= a.r0 && a.r0 < a.r1 && a.r1 <= rows && 0 <= a.c0 && a.c0 < a.c1 && a.c1 <= cols)
            << rows << " x " << cols << " tile " << i;
        EXPECT_EQ(a.c0 % 16, 0);
        area += static_cast<long long>(a.r1 - a.r0) * (a.c1 - a.c0);
        for (int j = 0; j < i; ++j) {
          const auto b = t.tile(j);
          const bool disjoint = a.r1 <= b.r0 || b.r1 <= a.r0 || a.c1 <= b.c0 || b.c1 <= a.c0;
          ASSERT_TRUE(disjoint) << rows << " x " << cols << ": tiles " << j << " and " << i << " overlap";
        }
      }
      EXPECT_EQ(area, static_cast<long long>(rows) * cols) << rows << " x " << cols;
    }
  }
}

TEST(ProductTiles, EnoughTilesForTheCoresOfTheCpuSet) {
  const int want = bentov::ops::cpu_set_col_tiles();
  EXPECT_GE(want, 4);
  EXPECT_LE(want, 16);
  EXPECT_GE(want, std::min(16, 2 * bentov::ops::default_threads()));  // the cores this process may use
  EXPECT_GE(bentov::ops::product_tiles(512, 2304).count(), want);      // pythia-160m QKV
  EXPECT_GE(bentov::ops::product_tiles(512, 3072).count(), want);      // its MLP
  EXPECT_GE(bentov::ops::product_tiles(2048, 4096).count(), 4 * want / 2);  // pythia-6.9b: 4 row blocks
  EXPECT_GE(bentov::ops::product_tiles(35, 16384).count(), want);      // the notebook sentence, 6.9b MLP
  // Weights widened on use: no tile wider than each worker's buffer.
  EXPECT_LE(bentov::ops::product_tiles(512, 16384, bentov::ops::kMaxWidenColBlock).col_block,
            bentov::ops::kMaxWidenColBlock);
}

// What the tiling relies on: one sgemm call gives the same bits wherever its operands sit in
// memory (OpenBLAS packs both into its own aligned buffers, or reads them unaligned in the
// small-matrix kernels). Shapes cover the small-matrix path, edge tiles and the big kernels.
TEST(ProductTiles, SameCallSameBitsAtAnyAlignment) {
  struct Shape { int m, n, k; bool trans_b; };
  for (const Shape s : {Shape{300, 384, 128, true}, Shape{300, 384, 128, false}, Shape{7, 16, 128, true},
                        Shape{2, 50, 512, false}, Shape{513, 200, 96, true}}) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n);
    for (auto& v : a) v = normal(rng);
    for (auto& v : b) v = normal(rng);
    std::vector<float> first;
    for (int shift = 0; shift < 16; ++shift) {
      // a, b and c each placed at a different float offset from a 64-byte boundary.
      std::vector<float> pa(a.size() + 16), pb(b.size() + 16), pc(static_cast<std::size_t>(s.m) * s.n + 16);
      float* A = pa.data() + shift;
      float* B = pb.data() + (shift * 7) % 16;
      float* C = pc.data() + (shift * 3) % 16;
      std::memcpy(A, a.data(), a.size() * sizeof(float));
      std::memcpy(B, b.data(), b.size() * sizeof(float));
      bentov::ops::gemm(false, s.trans_b, s.m, s.n, s.k, 1.0f, A, s.k, B, s.trans_b ? s.k : s.n, 0.0f, C, s.n);
      std::vector<float> got(C, C + static_cast<std::size_t>(s.m) * s.n);
      if (shift == 0) {
        first = got;
      } else {
        ASSERT_EQ(got, first) << s.m << "x" << s.n << "x" << s.k << " at shift " << shift
                              << " (OpenBLAS kernels: " << bentov::ops::blas_core_name() << ")";
      }
    }
  }
}

}  // namespace

