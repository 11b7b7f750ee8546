#include "bentov/ops/tiles.h"

#include <algorithm>

#include "bentov/ops/parallel.h"

namespace bentov::ops {

namespace {
constexpr int kRowBlock = 512;
constexpr int kColAlign = 16;
constexpr int kMinColBlock = 64;

int round_up(int v, int to) { return (v + to - 1) / to * to; }
}  // namespace

Tile ProductTiles::tile(int i) const {
  const int r = i / col_tiles(), c = i % col_tiles();
  return {r * row_block, std::min(rows, (r + 1) * row_block), c * col_block, std::min(cols, (c + 1) * col_block)};
}

int cpu_set_col_tiles() {
  static const int tiles = std::clamp(2 * default_threads(), 4, 16);  // the CPU set the process started with
  return tiles;
}

ProductTiles product_tiles(int rows, int cols, int max_col_block) {
  ProductTiles t;
  t.rows = rows;
  t.cols = cols;
  t.row_block = std::max(1, std::min(rows, kRowBlock));
  const int target = cpu_set_col_tiles();
  const int width = round_up((cols + target - 1) / target, kColAlign);
  t.col_block = std::max(kColAlign, std::min(round_up(std::max(cols, 1), kColAlign),
                                             std::clamp(width, kMinColBlock, std::max(kMinColBlock, max_col_block))));
  return t;
}

}  // namespace bentov::ops
