#include "bentov/analysis/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace bentov::analysis {

std::uint64_t IndexSampler::next(std::uint64_t n) {
  // 2^64 mod n, computed in 64 bits: (2^64 - n) mod n.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t x = engine_();
    if (x >= threshold) return x % n;
  }
}

double percentile_linear(std::span<const double> sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

int percentile_lower(std::span<const int> sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  return sorted[static_cast<std::size_t>(std::floor(pos))];
}

int percentile_upper(std::span<const int> sorted, double q) {
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  return sorted[std::min(static_cast<std::size_t>(std::ceil(pos)), sorted.size() - 1)];
}

double bootstrap_p_value(std::span<const double> replicates, double null_value) {
  if (replicates.empty()) return 1.0;
  double le = 0.0, ge = 0.0;
  for (double r : replicates) {
    if (r <= null_value) le += 1.0;
    if (r >= null_value) ge += 1.0;
  }
  const double b1 = static_cast<double>(replicates.size()) + 1.0;
  return std::min(1.0, 2.0 * std::min((le + 1.0) / b1, (ge + 1.0) / b1));
}

}  // namespace bentov::analysis
