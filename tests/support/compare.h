// Numeric comparison helpers for reference tests: report the max difference and the first
// mismatching indices, not just "not equal".
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

namespace bentov::testing {

// Every |got - want| <= abs_tol + rel_tol * |want|.
template <typename A, typename B>
::testing::AssertionResult AllClose(const std::vector<A>& got, const std::vector<B>& want,
                                    double abs_tol, double rel_tol = 0.0) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " != expected " << want.size();
  }
  double max_diff = 0.0;
  std::size_t bad = 0;
  std::ostringstream first;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double g = static_cast<double>(got[i]), w = static_cast<double>(want[i]);
    const double diff = std::fabs(g - w);
    if (!(diff <= abs_tol + rel_tol * std::fabs(w))) {  // NaN fails too
      if (bad < 5) first << "\n  [" << i << "] got " << g << " want " << w << " (diff " << diff << ")";
      ++bad;
    }
    if (diff > max_diff || std::isnan(diff)) max_diff = diff;
  }
  if (bad == 0) return ::testing::AssertionSuccess() << "max diff " << max_diff;
  return ::testing::AssertionFailure() << bad << " of " << got.size()
                                       << " elements differ; max diff " << max_diff
                                       << "; first mismatches:" << first.str();
}

}  // namespace bentov::testing
