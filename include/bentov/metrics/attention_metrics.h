// Pure metric functions on one attention matrix (DESIGN.md section 4, the notebook's
// definitions to the letter). A is (n, n) row-major, A[q * n + k]: a layer's attention
// averaged over heads, or one head's. Every sum is accumulated in double, whatever the
// element type.
#pragma once

#include <cstddef>
#include <string>

namespace bentov::metrics {

// Locality needs a distance between tokens: a text of fewer than kMinTokens has no metrics.
inline constexpr std::size_t kMinTokens = 2;
// Throws InputError "<context>the text has n token(s); attention locality needs at least 2 tokens"
// when n < kMinTokens; the one check every entry point (pipeline, observer, metric functions) uses.
void require_min_tokens(std::size_t n, const std::string& context = "");

// The notebook's epsilon, both as the "keep" threshold and inside the log of the entropy.
inline constexpr double kEntropyEpsilon = 1e-10;

// locality = 1 - (sum_ij A_ij |i - j| / sum_ij A_ij) / (n - 1)
// (notebook: compute_attention_locality). 1 when every query attends to itself, 0 when
// every query attends as far as possible. Throws InputError when n < 2 (a one-token text
// has no distances). NaN when sum_ij A_ij == 0 (numpy's 0/0).
double attention_locality(const float* A, int n);
double attention_locality(const double* A, int n);
// Its pieces, for matrices delivered row by row (row_metrics.h): row i of n entries adds
// sum_j a_ij to *total and sum_j a_ij |i - j| to *weighted (vectorized, double accumulation);
// locality_from_sums finishes (InputError when n < 2, NaN when total is 0).
void add_locality_row(const float* row, std::size_t i, std::size_t n, double* total, double* weighted);
double locality_from_sums(double total, double weighted, int n);

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

// ---- Sink-aware metrics -----------------------------------------------------------------
// Causal models park attention on the first token (the "attention sink": GPT-2 small sends
// over half its attention there). Mass on column 0 pulls the notebook's locality towards 0
// ("global") without any token attending to distant content, so a sink that grows with
// depth can fake a local-to-global transition. These numbers let a reader tell the two apart.
// The notebook's fields above keep their meaning; these are extra.

// sink_mass = (1/n) sum_i A[i][0]: the attention on the first token, averaged over the n
// query rows (row 0 included: causally it can only attend to itself, so it contributes 1).
// 0 <= sink_mass <= 1 for a causal row-stochastic A; 1/n is the floor (row 0 alone).
double sink_mass(const float* A, int n);
double sink_mass(const double* A, int n);

// The sink-excluded matrix B: rows 1..n-1 and columns 1..n-1 of A, each row renormalized
// to sum to 1 (B_ij = A_ij / sum_{k>=1} A_ik). Row 0 is excluded because its only
// (causal) entry is column 0; a row whose non-sink mass is 0 (all on the sink) is dropped.
// locality_no_sink = attention_locality(B) in the original positions: 1 - (sum_ij B_ij
// |i - j| / sum_ij B_ij) / (n - 2), n - 2 being the farthest distance left. NaN when n < 3
// (one non-sink row with one entry: no distance) or when every row was dropped.
double locality_no_sink(const float* A, int n);
double locality_no_sink(const double* A, int n);

// entropy_no_sink = attention_entropy(B): the notebook's flattened entropy of B (entries
// > 1e-10 kept and renormalized over the whole matrix, natural log). 0 when nothing is left.
double entropy_no_sink(const float* A, int n);
double entropy_no_sink(const double* A, int n);

// row_entropy_mean = (1/n) sum_i H_i with H_i = -sum_j p_ij log(p_ij + 1e-10), p_i the
// entries of row i that are > 1e-10, renormalized: the mean entropy of one query's
// attention distribution (nats). Unlike the flattened entropy, which grows like log(n^2)
// with the number of pairs, it does not grow with the number of rows (row i's maximum is
// log(i + 1)), so texts of different lengths compare. Row 0 (always 0) counts. 0 when n < 1.
double row_entropy_mean(const float* A, int n);
double row_entropy_mean(const double* A, int n);
// H_i of one row of `count` entries (the summand of row_entropy_mean).
double row_entropy(const float* row, std::size_t count);

}  // namespace bentov::metrics
