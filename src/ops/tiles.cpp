#include "bentov/ops/tiles.h"

#include <algorithm>

namespace bentov::ops {

namespace {
constexpr int kRowBlock = 512;
constexpr int kColAlign = 16;
constexpr int kTargetColTiles = 16;
constexpr int kMinColBlock = 64;

int round_up(int v, int to) { return (v + to - 1) / to * to; }
}  // namespace

Tile ProductTiles::tile(int i) const {
  const int r = i / col_tiles(), c = i % col_tiles();
  return {r * row_block, std::min(rows, (r + 1) * row_block), c * col_block, std::min(cols, (c + 1) * col_block)};
}

ProductTiles product_tiles(int rows, int cols) {
  ProductTiles t;
  t.rows = rows;
  t.cols = cols;
  t.row_block = std::max(1, std::min(rows, kRowBlock));
  const int width = round_up((cols + kTargetColTiles - 1) / kTargetColTiles, kColAlign);
  t.col_block = std::max(kColAlign, std::min(round_up(std::max(cols, 1), kColAlign),
                                             std::clamp(width, kMinColBlock, kMaxColBlock)));
  return t;
}

}  // namespace bentov::ops
