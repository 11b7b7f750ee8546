// How the HTML report stores attention patterns (report/html_report.h): each head's causal
// (n, n) pattern as a pooled thumbnail of at most 256 x 256 cells in bytes on a log scale, and,
// within a size budget, its full pattern at native resolution in two bytes per entry on a log
// scale. Only the lower triangle (key <= query) is stored, row by row; everything is base64 in
// the page. These are the only encodings the page's script decodes (src/report/html/report.js
// mirrors decode_thumb and decode_full).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bentov::report {

// Thumbnails: uint8, 0 below kThumbFloor, else 1 + round(254 (ln v - ln floor) / -ln floor).
// A thumbnail cell holds the mean of its block of the (n, n) matrix, masked entries as 0.
inline constexpr double kThumbFloor = 1e-6;
inline constexpr int kThumbMaxSide = 256;
inline constexpr int kThumbMinSide = 8;

// Full patterns: uint16 (little-endian), 0 below kFullFloor, else
// 1 + round(65534 (ln p - ln floor) / -ln floor). One step is ln(1e10) / 65534 = 3.51e-4 in
// ln p, so a decoded probability is within a relative 1.76e-4 (kFullRelativeError) of the
// float32 one; entries below 1e-10 decode as 0.
inline constexpr double kFullFloor = 1e-10;
inline constexpr double kFullRelativeError = 1.76e-4;

std::uint8_t encode_thumb(double v);
double decode_thumb(std::uint8_t q);
std::uint16_t encode_full(double p);
double decode_full(std::uint16_t q);

// Entries of the lower triangle of an (s, s) matrix: s (s + 1) / 2.
inline std::size_t triangle_size(std::size_t s) { return s * (s + 1) / 2; }
// Characters of the base64 text of `bytes` bytes (padded).
inline std::size_t base64_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }
// Bytes a head's thumbnail / full pattern takes in the page (base64).
inline std::size_t thumb_page_bytes(int side) { return base64_size(triangle_size(static_cast<std::size_t>(side))); }
inline std::size_t full_page_bytes(int n) { return base64_size(2 * triangle_size(static_cast<std::size_t>(n))); }

std::string base64_encode(std::span<const std::uint8_t> bytes);
// Throws FormatError on a character outside the alphabet or a bad length (tests).
std::vector<std::uint8_t> base64_decode(std::string_view text);

// Position i of n -> its thumbnail cell floor(i * side / n): (n) cell indices, non-decreasing,
// every cell 0 .. side-1 hit when side <= n.
std::vector<int> pool_cells(int n, int side);

// The thumbnail side for n tokens when `heads` thumbnails must fit in `budget` page bytes: the
// largest of min(n, 256), then halvings, that fits; kThumbMinSide (or n when smaller) if none.
int choose_thumb_side(int n, std::size_t heads, std::size_t budget);

// The order in which heads get a full pattern when the budget holds only some: head 0 of every
// layer, then head 1 of every layer, ... so each layer gets one before any gets two.
// Returns (layers * heads) flat indices layer * heads + head.
std::vector<int> full_pattern_order(int layers, int heads);

// One head's pooled thumbnail, filled row block by row block (observer.h), then encoded.
class ThumbPool {
 public:
  ThumbPool() = default;
  ThumbPool(int n, int side);
  // Rows [r0, r1) of the head, (r1 - r0, n) row-major; `cells` from pool_cells(n, side).
  void add_rows(int r0, int r1, const float* rows, const std::vector<int>& cells);
  // Block means, lower triangle row by row: (triangle_size(side)) bytes.
  std::vector<std::uint8_t> encode(const std::vector<int>& cells) const;

 private:
  int n_ = 0, side_ = 0;
  std::vector<float> sum_;  // (side, side) block sums of the rows seen so far
};

// Rows [r0, r1) of one head's full pattern into `out`, the (triangle_size(n)) lower triangle:
// row q's keys 0 .. q at q (q + 1) / 2. rows: (r1 - r0, n) row-major.
void encode_full_rows(int r0, int r1, const float* rows, int n, std::uint16_t* out);

}  // namespace bentov::report
