#include "bentov/metrics/attention_metrics.h"

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "bentov/error.h"
#include "bentov/ops/vmath.h"

namespace bentov::metrics {

void require_min_tokens(std::size_t n, const std::string& context) {
  if (n < kMinTokens) {
    throw InputError(context + "the text has " + std::to_string(n) + " token(s); attention locality needs at least " +
                         std::to_string(kMinTokens) + " tokens",
                     "give a longer text or two or more --ids");
  }
}

namespace {

// Notebook:
//   distances = |arange(n)[:, None] - arange(n)[None, :]|
//   locality  = 1 - ((attn * distances).sum() / attn.sum()) / (n - 1)
template <typename T>
double locality_impl(const T* A, int n) {
  require_min_tokens(static_cast<std::size_t>(n));
  const auto nn = static_cast<std::size_t>(n);
  double total = 0.0;     // sum_ij A_ij
  double weighted = 0.0;  // sum_ij A_ij |i - j|
  for (std::size_t i = 0; i < nn; ++i) {
    const T* row = A + i * nn;
    double row_total = 0.0;
    double row_weighted = 0.0;
    for (std::size_t j = 0; j < nn; ++j) {
      const double a = static_cast<double>(row[j]);
      const std::size_t d = i > j ? i - j : j - i;
      row_total += a;
      row_weighted += a * static_cast<double>(d);
    }
    total += row_total;
    weighted += row_weighted;
  }
  return locality_from_sums(total, weighted, n);
}

// Notebook:
//   flat = attn.flatten(); flat = flat[flat > 1e-10]; flat = flat / flat.sum()
//   entropy = -np.sum(flat * np.log(flat + 1e-10))
template <typename T>
double entropy_values(const T* a, std::size_t count) {
  double kept = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(a[i]);
    if (v > kEntropyEpsilon) kept += v;
  }
  if (kept == 0.0) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double v = static_cast<double>(a[i]);
    if (v > kEntropyEpsilon) {
      const double p = v / kept;
      sum += p * std::log(p + kEntropyEpsilon);
    }
  }
  return -sum;
}

template <typename T>
double entropy_impl(const T* A, int n) {
  return n < 1 ? 0.0 : entropy_values(A, static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
}

template <typename T>
double off_diagonal_impl(const T* A, int n) {
  if (n < 1) return 0.0;
  const auto nn = static_cast<std::size_t>(n);
  double off = 0.0;
  for (std::size_t i = 0; i < nn; ++i) {
    const T* row = A + i * nn;
    for (std::size_t j = 0; j < nn; ++j) {
      if (j != i) off += static_cast<double>(row[j]);
    }
  }
  return off;
}

// (1/n) sum_i A[i][0]
template <typename T>
double sink_mass_impl(const T* A, int n) {
  if (n < 1) return std::numeric_limits<double>::quiet_NaN();
  const auto nn = static_cast<std::size_t>(n);
  double s = 0.0;
  for (std::size_t i = 0; i < nn; ++i) s += static_cast<double>(A[i * nn]);
  return s / static_cast<double>(n);
}

// Row i's mass outside column 0: the normalizer of row i of B.
template <typename T>
double non_sink_mass(const T* row, std::size_t n) {
  double s = 0.0;
  for (std::size_t j = 1; j < n; ++j) s += static_cast<double>(row[j]);
  return s;
}

// locality of B = A[1:, 1:] row-renormalized (see the header). Each kept row sums to 1, so
// sum_ij B_ij = the number of kept rows.
template <typename T>
double locality_no_sink_impl(const T* A, int n) {
  if (n < 3) return std::numeric_limits<double>::quiet_NaN();
  const auto nn = static_cast<std::size_t>(n);
  double rows = 0.0;      // sum_ij B_ij
  double weighted = 0.0;  // sum_ij B_ij |i - j|
  for (std::size_t i = 1; i < nn; ++i) {
    const T* row = A + i * nn;
    const double z = non_sink_mass(row, nn);
    if (!(z > 0.0)) continue;
    double w = 0.0;
    for (std::size_t j = 1; j < nn; ++j) {
      const std::size_t d = i > j ? i - j : j - i;
      w += static_cast<double>(row[j]) * static_cast<double>(d);
    }
    weighted += w / z;
    rows += 1.0;
  }
  if (rows == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - (weighted / rows) / static_cast<double>(n - 2);
}

// attention_entropy of B, without materializing it: B_ij = A_ij / z_i.
template <typename T>
double entropy_no_sink_impl(const T* A, int n) {
  if (n < 2) return 0.0;
  const auto nn = static_cast<std::size_t>(n);
  std::vector<double> z(nn, 0.0);  // (n) row normalizers, 0 for row 0 and dropped rows
  double kept = 0.0;
  for (std::size_t i = 1; i < nn; ++i) {
    const T* row = A + i * nn;
    z[i] = non_sink_mass(row, nn);
    if (!(z[i] > 0.0)) continue;
    for (std::size_t j = 1; j < nn; ++j) {
      const double b = static_cast<double>(row[j]) / z[i];
      if (b > kEntropyEpsilon) kept += b;
    }
  }
  if (kept == 0.0) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 1; i < nn; ++i) {
    if (!(z[i] > 0.0)) continue;
    const T* row = A + i * nn;
    for (std::size_t j = 1; j < nn; ++j) {
      const double b = static_cast<double>(row[j]) / z[i];
      if (b > kEntropyEpsilon) {
        const double p = b / kept;
        sum += p * std::log(p + kEntropyEpsilon);
      }
    }
  }
  return -sum;
}

template <typename T>
double row_entropy_mean_impl(const T* A, int n) {
  if (n < 1) return 0.0;
  const auto nn = static_cast<std::size_t>(n);
  double total = 0.0;
  for (std::size_t i = 0; i < nn; ++i) total += entropy_values(A + i * nn, nn);
  return total / static_cast<double>(n);
}

// Float fast paths with the vectorized log (ops::sum_plogp): the same formulas, each term's
// log in float (within 2 ulp), sums in double. The double overloads above stay the scalar
// reference they are tested against.

// -sum_{a > eps} (a / K) log(a / K + eps) over `count` entries, K = sum_{a > eps} a.
double entropy_of(const float* a, std::size_t count) {
  const double kept = ops::sum_above(a, count, static_cast<float>(kEntropyEpsilon));
  if (kept == 0.0) return 0.0;
  const double scale = 1.0 / kept;
  return -scale * ops::sum_plogp(a, count, scale, static_cast<float>(kEntropyEpsilon),
                                 static_cast<float>(kEntropyEpsilon));
}

double row_entropy_mean_fast(const float* A, int n) {
  if (n < 1) return 0.0;
  const auto nn = static_cast<std::size_t>(n);
  double total = 0.0;
  for (std::size_t i = 0; i < nn; ++i) total += entropy_of(A + i * nn, nn);
  return total / static_cast<double>(n);
}

// entropy of B = A[1:, 1:] row-renormalized: B_ij = A_ij / z_i kept when B_ij > eps, i.e.
// A_ij > eps * z_i; p = B / K with K = sum of kept B.
double entropy_no_sink_fast(const float* A, int n) {
  if (n < 2) return 0.0;
  const auto nn = static_cast<std::size_t>(n);
  std::vector<double> z(nn, 0.0);  // (n) row normalizers
  double kept = 0.0;
  for (std::size_t i = 1; i < nn; ++i) {
    const float* row = A + i * nn;
    z[i] = non_sink_mass(row, nn);
    if (!(z[i] > 0.0)) continue;
    for (std::size_t j = 1; j < nn; ++j) {
      const double b = static_cast<double>(row[j]) / z[i];
      if (b > kEntropyEpsilon) kept += b;
    }
  }
  if (kept == 0.0) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 1; i < nn; ++i) {
    if (!(z[i] > 0.0)) continue;
    const double scale = 1.0 / (z[i] * kept);  // A_ij * scale = p_ij
    sum += scale * ops::sum_plogp(A + i * nn + 1, nn - 1, scale, static_cast<float>(kEntropyEpsilon),
                                  static_cast<float>(kEntropyEpsilon * z[i]));
  }
  return -sum;
}

}  // namespace

double sink_mass(const float* A, int n) { return sink_mass_impl(A, n); }
double sink_mass(const double* A, int n) { return sink_mass_impl(A, n); }
double locality_no_sink(const float* A, int n) { return locality_no_sink_impl(A, n); }
double locality_no_sink(const double* A, int n) { return locality_no_sink_impl(A, n); }
double entropy_no_sink(const float* A, int n) { return entropy_no_sink_fast(A, n); }
double entropy_no_sink(const double* A, int n) { return entropy_no_sink_impl(A, n); }
double row_entropy_mean(const float* A, int n) { return row_entropy_mean_fast(A, n); }
double row_entropy(const float* row, std::size_t count) { return entropy_of(row, count); }
double row_entropy_mean(const double* A, int n) { return row_entropy_mean_impl(A, n); }

// Per row: sum_j a_ij and sum_j a_ij |i - j| from ops::moment_sums (vectorized, double
// accumulation), split at the diagonal so |i - j| is linear on each side.
void add_locality_row(const float* row, std::size_t i, std::size_t n, double* total, double* weighted) {
  double left_mass = 0, left_moment = 0, right_mass = 0, right_moment = 0;  // moment: sum j a_j
  ops::moment_sums(row, i + 1, 0, &left_mass, &left_moment);
  ops::moment_sums(row + i + 1, n - i - 1, i + 1, &right_mass, &right_moment);
  const double di = static_cast<double>(i);
  *total += left_mass + right_mass;
  *weighted += (di * left_mass - left_moment) + (right_moment - di * right_mass);
}

double locality_from_sums(double total, double weighted, int n) {
  require_min_tokens(static_cast<std::size_t>(n));
  if (total == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - (weighted / total) / static_cast<double>(n - 1);
}

double attention_locality(const float* A, int n) {
  require_min_tokens(static_cast<std::size_t>(n));
  const auto nn = static_cast<std::size_t>(n);
  double total = 0.0, weighted = 0.0;
  for (std::size_t i = 0; i < nn; ++i) add_locality_row(A + i * nn, i, nn, &total, &weighted);
  return locality_from_sums(total, weighted, n);
}
double attention_locality(const double* A, int n) { return locality_impl(A, n); }
double attention_entropy(const float* A, int n) {
  return n < 1 ? 0.0 : entropy_of(A, static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
}
double attention_entropy(const double* A, int n) { return entropy_impl(A, n); }
double off_diagonal_mass(const float* A, int n) { return off_diagonal_impl(A, n); }
double off_diagonal_mass(const double* A, int n) { return off_diagonal_impl(A, n); }

double sheaf_trace(const float* A, int n, double value_frob_sq) {
  return off_diagonal_impl(A, n) * value_frob_sq;
}
double sheaf_trace(const double* A, int n, double value_frob_sq) {
  return off_diagonal_impl(A, n) * value_frob_sq;
}

}  // namespace bentov::metrics
