#include "bentov/analysis/l_star.h"

#include <cmath>
#include <cstddef>
#include <cstdlib>

#include "bentov/error.h"

namespace bentov::analysis {

// numpy/lib/function_base.py gradient(), uniform spacing dx = 1, edge_order = 1:
//   out[1:-1] = (f[2:] - f[:-2]) / (2 * dx)
//   out[0]    = (f[1] - f[0]) / dx
//   out[-1]   = (f[-1] - f[-2]) / dx
// The same operations in the same order, so the result is bit-identical to numpy's.
std::vector<double> numpy_gradient(std::span<const double> y) {
  const std::size_t n = y.size();
  if (n == 0) return {};
  if (n == 1) return {0.0};
  std::vector<double> g(n);
  for (std::size_t i = 1; i + 1 < n; ++i) g[i] = (y[i + 1] - y[i - 1]) / 2.0;
  g[0] = (y[1] - y[0]) / 1.0;
  g[n - 1] = (y[n - 1] - y[n - 2]) / 1.0;
  return g;
}

int l_star_theoretical(int n_layers) { return n_layers / 2; }

int l_star_argmax_gradient(std::span<const double> locality) {
  if (locality.empty()) {
    throw InputError("cannot locate L* in a model with no layers");
  }
  const std::vector<double> g = numpy_gradient(locality);
  std::size_t best = 0;
  double best_abs = std::fabs(g[0]);
  if (std::isnan(best_abs)) return 0;
  for (std::size_t i = 1; i < g.size(); ++i) {
    const double a = std::fabs(g[i]);
    if (std::isnan(a)) return static_cast<int>(i);  // numpy: the first NaN is the maximum
    if (a > best_abs) {  // strict: the first index wins ties
      best_abs = a;
      best = i;
    }
  }
  return static_cast<int>(best);
}

int l_star_deviation(int empirical, int theoretical) { return std::abs(empirical - theoretical); }

std::optional<double> mean_deviation(std::span<const int> deviations) {
  if (deviations.empty()) return std::nullopt;
  double sum = 0.0;
  for (int d : deviations) sum += static_cast<double>(d);
  return sum / static_cast<double>(deviations.size());
}

}  // namespace bentov::analysis
