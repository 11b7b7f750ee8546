// The metrics of attention_metrics.h accumulated over blocks of query rows that arrive in
// order (rows 0.. first, each block starting where the last ended), so that no (n, n) matrix
// has to exist and memory stays linear in n (observer.h).
//
// Row-separable sums (locality, off-diagonal mass, sink mass, the sink-free locality, row
// entropies) are the same sums in the same order as the whole-matrix functions. The flattened
// entropies renormalize by K, the kept mass, known only after the last row; inside the log the
// expected mass K0 stands in for it (FlatEntropy, exact algebra but for the 1e-10 inside the
// log), which moves the result by at most |K - K0| * count * 1e-10 / K: below 1e-9 relative
// for attention (rows sum to 1, K0 = rows). The float logs then round slightly different
// arguments, so results agree with the whole-matrix float functions to about 1e-8 relative.
#pragma once

#include <cstddef>

#include "bentov/backend/row_stats.h"

namespace bentov::metrics {

// -sum (b / K) log(b / K + 1e-10) over the entries b > 1e-10 of a matrix delivered in pieces,
// K = the sum of those entries (attention_entropy's definition).
class FlatEntropy {
 public:
  explicit FlatEntropy(double expected_mass) : k0_(expected_mass) {}
  // Entries b = w * x[i] for i < count.
  void add(const float* x, std::size_t count, double w = 1.0);
  // Sums a backend computed for some entries b: sum b, and sum b log(b / K0 + eps).
  void add_sums(double kept, double plogp) { kept_ += kept, f0_ += plogp; }
  double value() const;

 private:
  double k0_;          // expected K
  double kept_ = 0.0;  // K so far
  double f0_ = 0.0;    // sum b log(b / K0 + eps) so far
};

// One head's attention_locality and attention_entropy.
class HeadRowMetrics {
 public:
  explicit HeadRowMetrics(int n);
  // rows: (r1 - r0, n), row q at rows + (q - r0) * n.
  void add_rows(const float* rows, int r0, int r1);
  // The same rows as row statistics (row_stats.h), stats[q - r0] for row q.
  void add_statistics(const HeadRowStats* stats, int r0, int r1);
  int rows_done() const { return rows_done_; }
  double locality() const;  // throws InputError when n < 2
  double entropy() const;

 private:
  int n_;
  int rows_done_ = 0;
  double total_ = 0.0, weighted_ = 0.0;  // sum a, sum a |i - j|
  FlatEntropy entropy_;
};

// A layer's metrics from its head-averaged rows, given in double and rounded to float (the
// entropy family runs on the float copy through the vectorized log, as the whole-matrix
// float overloads do).
class LayerRowMetrics {
 public:
  explicit LayerRowMetrics(int n);
  // rows / rows_f: (r1 - r0, n), row q at + (q - r0) * n.
  void add_rows(const double* rows, const float* rows_f, int r0, int r1);
  // The same rows as row statistics (row_stats.h), stats[q - r0] for row q.
  void add_statistics(const LayerRowStats* stats, int r0, int r1);
  int rows_done() const { return rows_done_; }

  double locality() const;  // throws InputError when n < 2
  double entropy() const;
  double off_diagonal_mass() const { return off_; }
  double sink_mass() const;
  double locality_no_sink() const;
  double entropy_no_sink() const;
  double row_entropy_mean() const;

 private:
  int n_;
  int rows_done_ = 0;
  double total_ = 0.0, weighted_ = 0.0;             // locality
  double off_ = 0.0;                                // sum_ij A_ij - trace A
  double sink_ = 0.0;                               // sum_i A[i][0]
  double no_sink_rows_ = 0.0, no_sink_weighted_ = 0.0;  // locality of A[1:, 1:] row-renormalized
  double row_entropy_sum_ = 0.0;                    // sum_i H_i
  FlatEntropy entropy_, entropy_no_sink_;
};

}  // namespace bentov::metrics
