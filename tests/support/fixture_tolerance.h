// Bounds for bentov's attention against transformers' float64 references, derived from what
// float32 itself reaches on each fixture, and the OpenBLAS kernels a failure message names.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "bentov/io/json_file.h"
#include "bentov/ops/blas_kernels.h"

namespace bentov::testing {

// Any float32 forward pass misses a float64 reference by rounding alone. On each fixture
// (files and inputs), transformers' own float32 eager forward was measured against its float64
// reference by scripts/float32_floor.py (reference.json: transformers_float32.attention_max_abs,
// 3e-7 to 1.4e-5). bentov's error is of the same nature but comes from other kernels (OpenBLAS's
// Haswell, Zen, SkylakeX, Cooperlake or Sandybridge sgemm, each summing in its own order), so
// a bound is a multiple of that floor, with an absolute floor of its own for fixtures where
// transformers happened to be very close. Measured over every fixture and those five core types
// (scripts/fixture_errors.sh, on an EPYC with AVX-512), bentov's error is at most 2.3x
// transformers' float32 error (opt-preln under Sandybridge kernels) and at most 1.4e-5; the
// bounds below leave a margin of 1.7x or more over that, and stay far under the 1e-2 that a
// real bug (a swapped head, a wrong rotary dimension) moves attention by.
constexpr double kAttentionFloorFactor = 4.0;
constexpr double kAttentionAbsFloor = 1e-5;

// The bound for one fixture's attention (max abs, every layer and head), from the reference
// folder's reference.json; kAttentionAbsFloor where no floor was recorded.
inline double attention_tolerance(const std::filesystem::path& reference_dir) {
  const auto meta = io::read_json_file(reference_dir / "reference.json");
  const auto floor = meta.find("transformers_float32");
  if (floor == meta.end()) return kAttentionAbsFloor;
  return std::max(kAttentionAbsFloor, kAttentionFloorFactor * floor->at("attention_max_abs").get<double>());
}

// " (OpenBLAS kernels: Haswell)": appended to numeric failures, since bits and rounding
// depend on the kernels (bentov --version says the same).
inline std::string blas_kernels_note() { return " (OpenBLAS kernels: " + ops::blas_core_name() + ")"; }

template <typename A, typename B>
double max_abs_diff(const std::vector<A>& got, const std::vector<B>& want) {
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(d <= worst)) worst = d;  // NaN sticks
  }
  return worst;
}

}  // namespace bentov::testing
