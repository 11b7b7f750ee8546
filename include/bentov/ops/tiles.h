// How a product's output is cut into tiles for the workers, fixed by the product's shape and
// the machine's core count, never by the number of workers or ranks, so that every tile is the
// same sgemm call, with the same bits, whoever runs it.
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

inline constexpr int kMaxColBlock = 768;       // the widest column tile, for weights widened at load
inline constexpr int kMaxWidenColBlock = 256;  // for weights widened on use: each worker widens (in, this)

// About cpu_set_col_tiles() column tiles: two per core of the CPU set the process started with
// (sched_getaffinity: what taskset, a cgroup's cpuset or a batch system's allocation lets it
// use; not --threads), from 4 to 16. Enough tiles to keep those cores busy on pythia-scale
// projections, and no more: each column tile re-packs the input, which took 12% of the
// products' time at 512 tokens on 2 cores of a Sapphire Rapids Xeon with 16 tiles, and 16
// tiles of a 16-core machine's count run on 2 of its cores put pythia-410m's products at
// 2,048 tokens at 75-82% of sgemm. Processes started on CPU sets of one size (any --threads,
// mpirun ranks bound alike or not at all) cut every product alike, so get the same bits.
int cpu_set_col_tiles();

// Rows in blocks of 512 and about cpu_set_col_tiles() column tiles, 64 to max_col_block wide.
ProductTiles product_tiles(int rows, int cols, int max_col_block = kMaxColBlock);

}  // namespace bentov::ops
