// The notebook's metric formulas (DESIGN.md section 4) on hand-worked toy matrices; each
// expected value is derived in the comment above its test.
#include "bentov/metrics/attention_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bentov/error.h"

namespace {

using bentov::ErrorKind;
using namespace bentov::metrics;

constexpr double kEps = 1e-10;  // the notebook's epsilon

// (n, n) identity: every token attends only to itself.
std::vector<double> identity(int n) {
  std::vector<double> a(static_cast<std::size_t>(n * n), 0.0);
  for (int i = 0; i < n; ++i) a[static_cast<std::size_t>(i * n + i)] = 1.0;
  return a;
}

// Uniform causal: row i spreads its mass evenly over keys 0..i, A_ij = 1/(i+1) for j <= i.
std::vector<double> uniform_causal(int n) {
  std::vector<double> a(static_cast<std::size_t>(n * n), 0.0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) a[static_cast<std::size_t>(i * n + j)] = 1.0 / (i + 1);
  }
  return a;
}

// Every query puts all its mass on the first token: A_i0 = 1.
std::vector<double> first_token(int n) {
  std::vector<double> a(static_cast<std::size_t>(n * n), 0.0);
  for (int i = 0; i < n; ++i) a[static_cast<std::size_t>(i * n)] = 1.0;
  return a;
}

std::vector<float> to_float(const std::vector<double>& a) { return {a.begin(), a.end()}; }

// Identity: sum A = n, sum A|i-j| = 0, so locality = 1 - 0 = 1. The kept entries are the
// n ones, renormalized to p = 1/n each: entropy = -n (1/n) log(1/n + eps) = -log(1/n + eps)
// ~= log n. Nothing off the diagonal: off-diagonal mass 0, sheaf trace 0.
TEST(MetricsAttention, Identity) {
  for (int n : {2, 3, 8, 33}) {
    const auto a = identity(n);
    EXPECT_DOUBLE_EQ(attention_locality(a.data(), n), 1.0) << n;
    EXPECT_NEAR(attention_entropy(a.data(), n), -std::log(1.0 / n + kEps), 1e-14) << n;
    EXPECT_NEAR(attention_entropy(a.data(), n), std::log(static_cast<double>(n)), 1e-8) << n;
    EXPECT_EQ(off_diagonal_mass(a.data(), n), 0.0) << n;
    EXPECT_EQ(sheaf_trace(a.data(), n, 123.0), 0.0) << n;
  }
}

// Uniform causal: sum A = n (rows sum to 1). Row i contributes
// (1/(i+1)) * sum_{j<=i} (i-j) = (1/(i+1)) * i(i+1)/2 = i/2, so sum A|i-j| = n(n-1)/4 and
// locality = 1 - (n(n-1)/4 / n) / (n-1) = 1 - 1/4 = 0.75 for every n.
// Entropy: all n(n+1)/2 entries kept; total n; entry (i, j) becomes p = 1/(n(i+1)) and row i
// has i+1 of them, so entropy = -sum_i (1/n) log(1/(n(i+1)) + eps)
// ~= (1/n) sum_i log(n(i+1)) = log n + log(n!)/n.
// Off-diagonal mass = n - trace = n - sum_i 1/(i+1) = n - H_n.
TEST(MetricsAttention, UniformCausal) {
  for (int n : {2, 4, 10}) {
    const auto a = uniform_causal(n);
    EXPECT_NEAR(attention_locality(a.data(), n), 0.75, 1e-15) << n;

    double with_eps = 0.0, log_factorial = 0.0, harmonic = 0.0;
    for (int i = 0; i < n; ++i) {
      with_eps -= std::log(1.0 / (n * (i + 1.0)) + kEps) / n;
      log_factorial += std::log(i + 1.0);
      harmonic += 1.0 / (i + 1.0);
    }
    EXPECT_NEAR(attention_entropy(a.data(), n), with_eps, 1e-13) << n;
    EXPECT_NEAR(attention_entropy(a.data(), n), std::log(n) + log_factorial / n, 1e-8) << n;
    EXPECT_NEAR(off_diagonal_mass(a.data(), n), n - harmonic, 1e-13) << n;
    EXPECT_NEAR(sheaf_trace(a.data(), n, 2.5), 2.5 * (n - harmonic), 1e-12) << n;
  }
  // n = 4 by hand: entropy = log 4 + log(24)/4 = 1.3862944 + 0.7945135 = 2.1808079.
  const auto a4 = uniform_causal(4);
  EXPECT_NEAR(attention_entropy(a4.data(), 4), 2.1808079, 1e-6);
}

// All mass on the first token: sum A = n, sum A|i-j| = sum_i i = n(n-1)/2, so
// locality = 1 - ((n-1)/2) / (n-1) = 0.5. The n ones renormalize to 1/n: entropy ~= log n.
// Only A_00 is on the diagonal: off-diagonal mass = n - 1.
TEST(MetricsAttention, AllMassOnFirstToken) {
  for (int n : {2, 5, 16}) {
    const auto a = first_token(n);
    EXPECT_NEAR(attention_locality(a.data(), n), 0.5, 1e-15) << n;
    EXPECT_NEAR(attention_entropy(a.data(), n), -std::log(1.0 / n + kEps), 1e-14) << n;
    EXPECT_DOUBLE_EQ(off_diagonal_mass(a.data(), n), n - 1.0) << n;
    EXPECT_DOUBLE_EQ(sheaf_trace(a.data(), n, 10.0), 10.0 * (n - 1.0)) << n;
  }
}

// Locality divides by sum A, so it does not depend on the matrix's scale (the notebook's
// head-average of probabilities still sums to n, but the formula does not need it).
TEST(MetricsAttention, LocalityIsScaleFree) {
  auto a = uniform_causal(6);
  for (auto& v : a) v *= 3.0;
  EXPECT_NEAR(attention_locality(a.data(), 6), 0.75, 1e-15);
}

// Entries <= 1e-10 are dropped before renormalizing: a row [1 - 1e-11, 1e-11] counts as one
// entry of p = 1 (entropy -log(1 + eps) ~= -1e-10), not two.
TEST(MetricsAttention, EntropyDropsTinyEntries) {
  const std::vector<double> a = {1.0, 0.0,  //
                                 0.0, 0.0};
  EXPECT_NEAR(attention_entropy(a.data(), 2), -std::log(1.0 + kEps), 1e-20);
  const std::vector<double> b = {1.0 - 1e-11, 1e-11,  //
                                 0.0, 0.0};
  EXPECT_NEAR(attention_entropy(b.data(), 2), -std::log(1.0 + kEps), 1e-15);
  // Two kept entries of 0.5: entropy = -log(0.5 + eps) ~= log 2.
  const std::vector<double> c = {0.5, 0.5, 0.0, 0.0};
  EXPECT_NEAR(attention_entropy(c.data(), 2), -std::log(0.5 + kEps), 1e-15);
  // Nothing above the threshold: numpy's empty sum, 0.
  const std::vector<double> z = {0.0, 0.0, 0.0, 0.0};
  EXPECT_EQ(attention_entropy(z.data(), 2), 0.0);
}

// The float overloads accumulate in double: same values as the double ones on the same
// (float-representable) matrices, except that the entropy's logs are taken in float by the
// vectorized kernel (each within 2 ulp), so it agrees to 1e-6 relative, not to the last bit.
TEST(MetricsAttention, FloatAndDoubleOverloadsAgree) {
  for (int n : {2, 7, 31}) {
    const auto d = uniform_causal(n);
    const auto f = to_float(d);
    const std::vector<double> back(f.begin(), f.end());
    EXPECT_DOUBLE_EQ(attention_locality(f.data(), n), attention_locality(back.data(), n));
    const double h = attention_entropy(back.data(), n);
    EXPECT_NEAR(attention_entropy(f.data(), n), h, 1e-6 * h);
    EXPECT_DOUBLE_EQ(off_diagonal_mass(f.data(), n), off_diagonal_mass(back.data(), n));
    EXPECT_DOUBLE_EQ(sheaf_trace(f.data(), n, 3.0), sheaf_trace(back.data(), n, 3.0));
  }
}

// A one-token text has no distance to measure: an InputError, not a NaN.
TEST(MetricsAttention, OneTokenIsAnInputError) {
  const std::vector<double> one = {1.0};
  const std::vector<float> onef = {1.0f};
  try {
    attention_locality(one.data(), 1);
    FAIL() << "expected an error";
  } catch (const bentov::Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("2 tokens"), std::string::npos) << e.what();
  }
  EXPECT_THROW(attention_locality(onef.data(), 1), bentov::Error);
  EXPECT_THROW(attention_locality(onef.data(), 0), bentov::Error);
}

// numpy gives NaN for 0/0 when the matrix holds no mass at all.
TEST(MetricsAttention, ZeroMatrixLocalityIsNaN) {
  const std::vector<double> z(9, 0.0);
  EXPECT_TRUE(std::isnan(attention_locality(z.data(), 3)));
}

}  // namespace
