// How a product's output is cut into tiles for the workers, fixed by the product's shape
// alone and never by the number of workers, so that every tile is the same sgemm call, with the
// same bits, whoever runs it.
//
// Why: which micro-kernel computes an output element depends on the call's m and n, and some
// micro-kernels accumulate k in a different order than others. OpenBLAS 0.3.21's Haswell / Zen
// sgemm (kernel/x86_64/sgemm_kernel_8x4_haswell_2.c) walks m in staggered 8- and 16-row
// kernels whose k2 variants keep even and odd k in separate accumulators; SkylakeX and
// Cooperlake send products of at most 10^6 multiply-adds to separate small-matrix kernels
// (interface/gemm.c, SMALL_MATRIX_OPT). Measured on Debian 12's OpenBLAS: cutting a
// (300, 128) x (128, 384) product into column slices at multiples of 16 changes the bits of up
// to 40% of its elements under Haswell and Zen kernels, of none under SkylakeX, Cooperlake and
// Sandybridge unless a slice falls under the small-matrix limit. What holds on every core type,
// and what bentov relies on (tests/unit/tiles_test.cpp): the same call with the same operands
// gives the same bits at any alignment of its pointers.
#pragma once

namespace bentov::ops {

// A rectangle [r0, r1) x [c0, c1) of the output.
struct Tile {
  int r0, r1, c0, c1;
};

// Tiles of a (rows, cols) output in row-major order of tiles.
struct ProductTiles {
  int rows = 0, cols = 0;
  int row_block = 0;  // rows per tile (the last row of tiles may have fewer)
  int col_block = 0;  // columns per tile, a multiple of 16 (64-byte aligned starts; the last may have fewer)

  int row_tiles() const { return (rows + row_block - 1) / row_block; }
  int col_tiles() const { return (cols + col_block - 1) / col_block; }
  int count() const { return row_tiles() * col_tiles(); }
  Tile tile(int i) const;
};

// Rows in blocks of 512 and about 16 column tiles, 64 to 256 columns wide: enough tiles to keep
// 16 workers busy on pythia-scale projections, and wide enough that re-packing the input for
// each tile costs under 5% of sgemm's rate (measured single-threaded on an EPYC, n = 128..2048).
ProductTiles product_tiles(int rows, int cols);
inline constexpr int kMaxColBlock = 256;  // the widest column tile product_tiles makes

}  // namespace bentov::ops
