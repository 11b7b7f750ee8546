#include "bentov/report/pattern_encoding.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "bentov/error.h"

namespace bentov::report {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Steps of ln v per code above 0.
const double kThumbStep = -std::log(kThumbFloor) / 254.0;
const double kFullStep = -std::log(kFullFloor) / 65534.0;

int alphabet_index(char c) {
  const auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::uint8_t encode_thumb(double v) {
  if (!(v >= kThumbFloor)) return 0;
  const double code = 1.0 + std::round((std::log(v) - std::log(kThumbFloor)) / kThumbStep);
  return static_cast<std::uint8_t>(std::clamp(code, 1.0, 255.0));
}

double decode_thumb(std::uint8_t q) {
  return q == 0 ? 0.0 : std::exp(std::log(kThumbFloor) + (q - 1) * kThumbStep);
}

std::uint16_t encode_full(double p) {
  if (!(p >= kFullFloor)) return 0;
  const double code = 1.0 + std::round((std::log(p) - std::log(kFullFloor)) / kFullStep);
  return static_cast<std::uint16_t>(std::clamp(code, 1.0, 65535.0));
}

double decode_full(std::uint16_t q) {
  return q == 0 ? 0.0 : std::exp(std::log(kFullFloor) + (q - 1) * kFullStep);
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(base64_size(bytes.size()));
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t w = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(w >> s) & 63u];
  }
  const std::size_t left = bytes.size() - i;
  if (left > 0) {
    std::uint32_t w = std::uint32_t{bytes[i]} << 16;
    if (left == 2) w |= std::uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(w >> 18) & 63u];
    out += kAlphabet[(w >> 12) & 63u];
    out += left == 2 ? kAlphabet[(w >> 6) & 63u] : '=';
    out += '=';
  }
  return out;
}

std::vector<std::uint8_t> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw FormatError("base64 text of " + std::to_string(text.size()) + " characters",
                                              "base64 comes in groups of 4 characters; the text was cut or altered");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::array<int, 4> v{};
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + static_cast<std::size_t>(j)];
      const bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && j >= 2) {
        ++pad;
        continue;
      }
      v[static_cast<std::size_t>(j)] = alphabet_index(c);
      if (v[static_cast<std::size_t>(j)] < 0 || pad) throw FormatError("invalid base64 character", "the text holds a character outside A-Z, a-z, 0-9, + and /");
    }
    const std::uint32_t w = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<std::uint8_t>(w >> 16));
    if (pad < 2) out.push_back(static_cast<std::uint8_t>(w >> 8));
    if (pad < 1) out.push_back(static_cast<std::uint8_t>(w));
  }
  return out;
}

std::vector<int> pool_cells(int n, int side) {
  std::vector<int> cells(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    cells[static_cast<std::size_t>(i)] =
        static_cast<int>(static_cast<long long>(i) * side / std::max(n, 1));
  }
  return cells;
}

int choose_thumb_side(int n, std::size_t heads, std::size_t budget) {
  int side = std::min(n, kThumbMaxSide);
  while (side > kThumbMinSide && heads * thumb_page_bytes(side) > budget) side = std::max(kThumbMinSide, side / 2);
  return std::max(1, std::min(side, n));
}

std::vector<int> full_pattern_order(int layers, int heads) {
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(layers) * static_cast<std::size_t>(heads));
  for (int h = 0; h < heads; ++h) {
    for (int l = 0; l < layers; ++l) order.push_back(l * heads + h);
  }
  return order;
}

ThumbPool::ThumbPool(int n, int side)
    : n_(n), side_(side), sum_(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 0.0f) {}

void ThumbPool::add_rows(int r0, int r1, const float* rows, const std::vector<int>& cells) {
  const std::size_t side = static_cast<std::size_t>(side_);
  for (int q = r0; q < r1; ++q) {
    const float* row = rows + static_cast<std::size_t>(q - r0) * static_cast<std::size_t>(n_);
    float* acc = sum_.data() + static_cast<std::size_t>(cells[static_cast<std::size_t>(q)]) * side;
    for (int k = 0; k <= q; ++k) acc[cells[static_cast<std::size_t>(k)]] += row[k];
  }
}

std::vector<std::uint8_t> ThumbPool::encode(const std::vector<int>& cells) const {
  const std::size_t side = static_cast<std::size_t>(side_);
  std::vector<double> count(side, 0.0);  // (side) positions per cell
  for (const int c : cells) count[static_cast<std::size_t>(c)] += 1.0;
  std::vector<std::uint8_t> out;
  out.reserve(triangle_size(side));
  for (std::size_t a = 0; a < side; ++a) {
    for (std::size_t b = 0; b <= a; ++b) {
      const double area = count[a] * count[b];
      out.push_back(encode_thumb(area > 0 ? sum_[a * side + b] / area : 0.0));
    }
  }
  return out;
}

void encode_full_rows(int r0, int r1, const float* rows, int n, std::uint16_t* out) {
  for (int q = r0; q < r1; ++q) {
    const float* row = rows + static_cast<std::size_t>(q - r0) * static_cast<std::size_t>(n);
    std::uint16_t* dst = out + triangle_size(static_cast<std::size_t>(q));
    for (int k = 0; k <= q; ++k) dst[k] = encode_full(row[k]);
  }
}

}  // namespace bentov::report
