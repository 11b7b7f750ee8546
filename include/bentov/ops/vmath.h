// Vectorized exp and log for the attention softmax and the entropy metrics: Cephes-style
// polynomial kernels on AVX2+FMA (chosen at run time), within 2 ulp of the correctly rounded
// float result, with the libm versions as the scalar fallback and reference.
#pragma once

#include <cstddef>

namespace bentov::ops {

// y[i] = exp(x[i] - shift) for i < count; returns sum_i y[i] accumulated in double.
// (The softmax numerator and denominator in one pass.)
double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count);

// sum_i p[i] * log(p[i] * scale + eps) over the entries with p[i] > threshold, in double;
// also their count in *kept (may be null). (The notebook entropy of a renormalized matrix:
// scale = 1 / total mass.)
double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,
                 std::size_t* kept = nullptr);

// sum_plogp(p, count, scale, eps, threshold) with, in the same pass, *mass = sum_above(p, count,
// threshold), each to the bit.
double sum_plogp_and_mass(const float* p, std::size_t count, double scale, float eps, float threshold,
                          double* mass);

// *mass = sum_j a[j], *moment = sum_j (first + j) a[j], both accumulated in double.
void moment_sums(const float* a, std::size_t count, std::size_t first, double* mass, double* moment);

// sum of the entries > threshold, accumulated in double.
double sum_above(const float* a, std::size_t count, float threshold);

// max of x[0..count), count >= 1.
float max_value(const float* x, std::size_t count);

// x[i] *= s for i < count.
void scale(float* x, std::size_t count, float s);

// sum[i] += x[i] (widened to double) for i < count.
void add_widened(double* sum, const float* x, std::size_t count);

// *mass = sum_k a[k] and *weighted = sum_k (d0 - k) a[k] over k < count (the distances d0,
// d0 - 1, ... of a's entries from some index), accumulated in double.
void distance_sums(const double* a, std::size_t count, double d0, double* mass, double* weighted);

namespace ref {
double exp_shifted_sum(const float* x, float shift, float* y, std::size_t count);
double sum_plogp(const float* p, std::size_t count, double scale, float eps, float threshold,
                 std::size_t* kept = nullptr);
}  // namespace ref

}  // namespace bentov::ops
