// Pure metric functions on one attention matrix (DESIGN.md section 4, the notebook's
// definitions to the letter). A is (n, n) row-major, A[q * n + k]: a layer's attention
// averaged over heads, or one head's. Every sum is accumulated in double, whatever the
// element type.
#pragma once

namespace bentov::metrics {

// The notebook's epsilon, both as the "keep" threshold and inside the log of the entropy.
inline constexpr double kEntropyEpsilon = 1e-10;

// locality = 1 - (sum_ij A_ij |i - j| / sum_ij A_ij) / (n - 1)
// (notebook: compute_attention_locality). 1 when every query attends to itself, 0 when
// every query attends as far as possible. Throws InputError when n < 2 (a one-token text
// has no distances). NaN when sum_ij A_ij == 0 (numpy's 0/0).
double attention_locality(const float* A, int n);
double attention_locality(const double* A, int n);

// entropy = -sum p log(p + 1e-10) over the flattened matrix, where p keeps only the
// entries > 1e-10, renormalized to sum to 1; natural log (notebook:
// compute_attention_entropy). 0 when no entry passes the threshold (numpy's empty sum).
double attention_entropy(const float* A, int n);
double attention_entropy(const double* A, int n);

// sum_ij A_ij - trace(A): the attention mass that leaves the diagonal, the graph part of
// the notebook's sheaf Laplacian trace.
double off_diagonal_mass(const float* A, int n);
double off_diagonal_mass(const double* A, int n);

// sheaf_trace = (sum_ij A_ij - trace A) * ||W_V||_F^2 (notebook:
// compute_sheaf_laplacian_trace), with value_frob_sq = ||W_V||_F^2 of the layer.
double sheaf_trace(const float* A, int n, double value_frob_sq);
double sheaf_trace(const double* A, int n, double value_frob_sq);

}  // namespace bentov::metrics
