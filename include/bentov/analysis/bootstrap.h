// The bootstrap's building blocks, specified so that a run is reproducible bit for bit on
// every platform: std::mt19937_64 is fully specified by the C++ standard, but the standard
// distributions are not (libstdc++ and libc++ draw differently), so the index draw is ours.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace bentov::analysis {

// Uniform indices in [0, n) from std::mt19937_64(seed), by rejection: a raw 64-bit draw x is
// accepted when x >= 2^64 mod n (so that the accepted range is a multiple of n) and mapped
// to x mod n. Unbiased, and the same sequence everywhere.
class IndexSampler {
 public:
  explicit IndexSampler(std::uint64_t seed) : engine_(seed) {}
  // n >= 1.
  std::uint64_t next(std::uint64_t n);

 private:
  std::mt19937_64 engine_;
};

// numpy.percentile(values, q) with its default linear interpolation: position
// q / 100 * (size - 1) in the sorted values. `sorted` ascending, non-empty, 0 <= q <= 100.
double percentile_linear(std::span<const double> sorted, double q);

// Nearest-rank percentiles of sorted integers, for L*: the lower bound takes the value at
// floor(q / 100 * (size - 1)), the upper bound at ceil(...), so that an interval of layers
// is never narrower than the interpolated one.
int percentile_lower(std::span<const int> sorted, double q);
int percentile_upper(std::span<const int> sorted, double q);

// Two-sided bootstrap p-value of H0: the statistic equals `null_value`, from its
// replicates: min(1, 2 min((#{r <= null} + 1) / (B + 1), (#{r >= null} + 1) / (B + 1))),
// the +1 keeping a finite number of replicates from claiming p = 0 (Davison and Hinkley
// 1997, eq. 4.11). 1 when there are no replicates.
double bootstrap_p_value(std::span<const double> replicates, double null_value);

}  // namespace bentov::analysis
