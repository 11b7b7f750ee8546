#include "bentov/metrics/attention_metrics.h"

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

#include "bentov/error.h"

namespace bentov::metrics {
namespace {

void check_size(int n, const char* what) {
  if (n < 2) {
    throw InputError(std::string(what) + " needs at least 2 tokens, got " + std::to_string(n),
                     "give a text or --ids with two or more tokens");
  }
}

// Notebook:
//   distances = |arange(n)[:, None] - arange(n)[None, :]|
//   locality  = 1 - ((attn * distances).sum() / attn.sum()) / (n - 1)
template <typename T>
double locality_impl(const T* A, int n) {
  check_size(n, "attention locality");
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
  if (total == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return 1.0 - (weighted / total) / static_cast<double>(n - 1);
}

// Notebook:
//   flat = attn.flatten(); flat = flat[flat > 1e-10]; flat = flat / flat.sum()
//   entropy = -np.sum(flat * np.log(flat + 1e-10))
template <typename T>
double entropy_impl(const T* A, int n) {
  if (n < 1) return 0.0;
  const std::size_t count = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  double kept = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double a = static_cast<double>(A[i]);
    if (a > kEntropyEpsilon) kept += a;
  }
  if (kept == 0.0) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    const double a = static_cast<double>(A[i]);
    if (a > kEntropyEpsilon) {
      const double p = a / kept;
      sum += p * std::log(p + kEntropyEpsilon);
    }
  }
  return -sum;
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

}  // namespace

double attention_locality(const float* A, int n) { return locality_impl(A, n); }
double attention_locality(const double* A, int n) { return locality_impl(A, n); }
double attention_entropy(const float* A, int n) { return entropy_impl(A, n); }
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
