#include "bentov/analysis/estimators.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "bentov/analysis/l_star.h"
#include "bentov/error.h"

namespace bentov::analysis {
namespace {

// Residual sum of squares of the least-squares fit of y on the columns of X (each of
// length y.size()), by modified Gram-Schmidt: the residual is y minus its projections on
// the orthonormalized columns. A column that is (numerically) in the span of the previous
// ones is skipped. Also returns the coefficients' effect through `fitted` when given.
double least_squares_rss(std::vector<std::vector<double>> X, std::span<const double> y,
                         std::vector<double>* fitted = nullptr) {
  const std::size_t n = y.size();
  std::vector<double> r(y.begin(), y.end());
  std::vector<std::vector<double>> q;
  for (auto& col : X) {
    const double norm0 = std::sqrt(std::inner_product(col.begin(), col.end(), col.begin(), 0.0));
    for (const auto& e : q) {
      const double d = std::inner_product(col.begin(), col.end(), e.begin(), 0.0);
      for (std::size_t i = 0; i < n; ++i) col[i] -= d * e[i];
    }
    const double norm = std::sqrt(std::inner_product(col.begin(), col.end(), col.begin(), 0.0));
    if (!(norm > 1e-12 * std::max(norm0, 1.0))) continue;
    for (double& v : col) v /= norm;
    const double d = std::inner_product(r.begin(), r.end(), col.begin(), 0.0);
    for (std::size_t i = 0; i < n; ++i) r[i] -= d * col[i];
    q.push_back(std::move(col));
  }
  if (fitted) {
    fitted->resize(n);
    for (std::size_t i = 0; i < n; ++i) (*fitted)[i] = y[i] - r[i];
  }
  return std::inner_product(r.begin(), r.end(), r.begin(), 0.0);
}

double bic(double rss, double floor, std::size_t n, int params) {
  const double nn = static_cast<double>(n);
  return nn * std::log(std::max(rss, floor) / nn) + params * std::log(nn);
}

int median_lower(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v[(v.size() - 1) / 2];
}

}  // namespace

std::optional<TwoSegmentFit> two_segment_fit(std::span<const double> y) {
  const std::size_t L = y.size();
  if (L < 5) return std::nullopt;
  if (std::any_of(y.begin(), y.end(), [](double v) { return !std::isfinite(v); })) {
    return std::nullopt;
  }
  double mean = 0.0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(L);
  double tss = 0.0, sum_sq = 0.0;
  for (double v : y) {
    tss += (v - mean) * (v - mean);
    sum_sq += v * v;
  }
  // Below this, a residual is rounding (a constant series has TSS 0 but rounding RSS).
  const double floor = std::max({1e-12 * tss, 1e-24 * sum_sq, 1e-300});

  // The least-squares line through y[begin, end) over x = begin..end-1: its RSS and slope.
  auto line = [&](std::size_t begin, std::size_t end, double* slope) {
    const std::size_t m = end - begin;
    std::vector<double> ones(m, 1.0), x(m);
    for (std::size_t i = 0; i < m; ++i) x[i] = static_cast<double>(begin + i);
    std::vector<double> fitted;
    const double rss = least_squares_rss({ones, x}, y.subspan(begin, m), &fitted);
    if (slope) *slope = (fitted[m - 1] - fitted[0]) / static_cast<double>(m - 1);
    return rss;
  };

  TwoSegmentFit best;
  best.rss_line = line(0, L, nullptr);
  bool have = false;
  for (std::size_t b = 2; b + 2 <= L; ++b) {
    double before = 0.0, after = 0.0;
    const double rss = line(0, b, &before) + line(b, L, &after);
    // Strict (with rounding slack): the first break wins ties, so an exact knee at layer k,
    // which both b = k and b = k + 1 fit, reports k.
    if (!have || rss < best.rss_two_segment - floor) {
      have = true;
      best.rss_two_segment = rss;
      best.break_layer = static_cast<int>(b);
      best.slope_before = before;
      best.slope_after = after;
    }
  }
  best.bic_line = bic(best.rss_line, floor, L, 2);
  best.bic_two_segment = bic(best.rss_two_segment, floor, L, 5);
  best.delta_bic = best.bic_line - best.bic_two_segment;
  best.supported = best.delta_bic > 0.0;
  return best;
}

std::optional<int> trace_sign_change(std::span<const double> trace) {
  const std::size_t L = trace.size();
  if (L < 3) return std::nullopt;
  if (std::any_of(trace.begin(), trace.end(), [](double v) { return !std::isfinite(v); })) {
    return std::nullopt;
  }
  for (std::size_t l = 1; l + 1 < L; ++l) {
    if (!(trace[l] - trace[l - 1] > 0.0)) continue;
    // The next non-zero forward difference from l on.
    for (std::size_t m = l; m + 1 < L; ++m) {
      const double d = trace[m + 1] - trace[m];
      if (d < 0.0) return static_cast<int>(l);
      if (d > 0.0) break;  // still rising: a later l will be examined
    }
  }
  return std::nullopt;
}

Consensus consensus(std::span<const double> locality, std::span<const double> entropy,
                    std::span<const double> trace) {
  if (locality.empty() || entropy.size() != locality.size()) {
    throw InputError("consensus needs locality and entropy series of the same, non-zero length");
  }
  Consensus c;
  c.locality = l_star_argmax_gradient(locality);
  c.entropy = l_star_argmax_gradient(entropy);
  c.trace = trace_sign_change(trace);
  std::vector<int> v = {c.locality, c.entropy};
  if (c.trace) v.push_back(*c.trace);
  c.n_estimates = static_cast<int>(v.size());
  c.layer = median_lower(v);
  c.spread = *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
  c.agree = c.spread <= kConsensusTolerance;
  return c;
}

Estimators estimate_all(std::span<const double> locality, std::span<const double> entropy,
                        std::span<const double> trace) {
  Estimators e;
  e.argmax_gradient = l_star_argmax_gradient(locality);
  e.two_segment = two_segment_fit(locality);
  e.trace_sign_change = trace_sign_change(trace);
  e.consensus = consensus(locality, entropy, trace);
  return e;
}

}  // namespace bentov::analysis
