#include "bentov/metrics/row_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bentov/metrics/attention_metrics.h"
#include "bentov/ops/vmath.h"

namespace bentov::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The columns of causal row q that the vectorized sums read: 0..q rounded up to whole 16-float
// vectors (at most the row). The zeros past q that this takes fill chunks the sums skip, so a
// row's terms keep the vector lanes and the log kernel they have over the whole row: the same bits.
std::size_t vector_span(std::size_t q, std::size_t n) { return std::min(n, (q + 16) / 16 * 16); }

}  // namespace

// With b/K + eps = (b + eps K) / K and K0 for K inside the log (see the header):
//   -sum (b/K) log(b/K + eps) = -(1/K) sum b log(b/K0 + eps) - log K0 + log K.
void FlatEntropy::add(const float* x, std::size_t count, double w) {
  const auto threshold = static_cast<float>(kEntropyEpsilon / w);  // b > eps  <=>  x > eps / w
  double kept = 0.0;
  const double plogp = ops::sum_plogp_and_mass(x, count, w / k0_, static_cast<float>(kEntropyEpsilon), threshold, &kept);
  kept_ += w * kept;
  f0_ += w * plogp;
}

double FlatEntropy::value() const {
  if (kept_ == 0.0) return 0.0;
  return -f0_ / kept_ - std::log(k0_) + std::log(kept_);
}

HeadRowMetrics::HeadRowMetrics(int n) : n_(n), entropy_(static_cast<double>(n)) {}

// Rows are causal (the observer's contract): row q is exactly zero past column q, whose terms
// would add +0 to every sum, so only columns 0..q are read (the entropy's: vector_span).
void HeadRowMetrics::add_rows(const float* rows, int r0, int r1) {
  const auto nn = static_cast<std::size_t>(n_);
  for (int q = r0; q < r1; ++q) {
    const auto i = static_cast<std::size_t>(q);
    const float* row = rows + static_cast<std::size_t>(q - r0) * nn;
    add_locality_row(row, i, i + 1, &total_, &weighted_);
    entropy_.add(row, vector_span(i, nn));
  }
  rows_done_ = r1;
}

void HeadRowMetrics::add_statistics(const HeadRowStats* stats, int r0, int r1) {
  for (int q = r0; q < r1; ++q) {
    const HeadRowStats& s = stats[q - r0];
    total_ += s.mass;
    weighted_ += s.weighted;
    entropy_.add_sums(s.kept, s.plogp);
  }
  rows_done_ = r1;
}

double HeadRowMetrics::locality() const { return locality_from_sums(total_, weighted_, n_); }

double HeadRowMetrics::entropy() const { return n_ < 1 ? 0.0 : entropy_.value(); }

LayerRowMetrics::LayerRowMetrics(int n)
    : n_(n), entropy_(static_cast<double>(n)), entropy_no_sink_(static_cast<double>(n > 1 ? n - 1 : 1)) {}

// As HeadRowMetrics::add_rows, the double sums read columns 0..q only, the vectorized entropy
// sums vector_span's. Row i's columns 1 .. i-1 (distances i-1 .. 1) give the mass and weighted
// distance that locality, the off-diagonal mass and the sink-free locality share; the sink
// (column 0, distance i) and the diagonal (distance 0) are added apart.
void LayerRowMetrics::add_rows(const double* rows, const float* rows_f, int r0, int r1) {
  const auto nn = static_cast<std::size_t>(n_);
  for (int q = r0; q < r1; ++q) {
    const auto i = static_cast<std::size_t>(q);
    const double* row = rows + static_cast<std::size_t>(q - r0) * nn;
    const float* row_f = rows_f + static_cast<std::size_t>(q - r0) * nn;
    sink_ += row[0];
    if (i == 0) {
      total_ += row[0];
    } else {
      double inner = 0.0, inner_weighted = 0.0;  // columns 1 .. i-1
      ops::distance_sums(row + 1, i - 1, static_cast<double>(i - 1), &inner, &inner_weighted);
      const double off = row[0] + inner, weighted = row[0] * static_cast<double>(i) + inner_weighted;
      off_ += off;
      total_ += off + row[i];
      weighted_ += weighted;
      // Row i of B = A[1:, 1:] renormalized by its non-sink mass z (dropped when z = 0).
      const double z = inner + row[i];
      if (z > 0.0) {
        no_sink_weighted_ += inner_weighted / z;
        no_sink_rows_ += 1.0;
      }
      const double z_f = ops::sum_above(row_f + 1, i, -1.0f);  // the float path's normalizer, from the float row
      if (z_f > 0.0) entropy_no_sink_.add(row_f + 1, vector_span(i - 1, nn - 1), 1.0 / z_f);
    }
    const std::size_t span = vector_span(i, nn);
    row_entropy_sum_ += row_entropy(row_f, span);
    entropy_.add(row_f, span);
  }
  rows_done_ = r1;
}

void LayerRowMetrics::add_statistics(const LayerRowStats* stats, int r0, int r1) {
  for (int q = r0; q < r1; ++q) {
    const LayerRowStats& s = stats[q - r0];
    total_ += s.mass;
    weighted_ += s.weighted;
    off_ += s.off_diagonal;
    sink_ += s.sink;
    no_sink_rows_ += s.no_sink_rows;
    no_sink_weighted_ += s.no_sink_weighted;
    row_entropy_sum_ += s.row_entropy;
    entropy_.add_sums(s.kept, s.plogp);
    entropy_no_sink_.add_sums(s.kept_no_sink, s.plogp_no_sink);
  }
  rows_done_ = r1;
}

double LayerRowMetrics::locality() const { return locality_from_sums(total_, weighted_, n_); }

double LayerRowMetrics::entropy() const { return n_ < 1 ? 0.0 : entropy_.value(); }

double LayerRowMetrics::sink_mass() const { return n_ < 1 ? kNaN : sink_ / static_cast<double>(n_); }

double LayerRowMetrics::locality_no_sink() const {
  if (n_ < 3 || no_sink_rows_ == 0.0) return kNaN;
  return 1.0 - (no_sink_weighted_ / no_sink_rows_) / static_cast<double>(n_ - 2);
}

double LayerRowMetrics::entropy_no_sink() const { return n_ < 2 ? 0.0 : entropy_no_sink_.value(); }

double LayerRowMetrics::row_entropy_mean() const {
  return n_ < 1 ? 0.0 : row_entropy_sum_ / static_cast<double>(n_);
}

}  // namespace bentov::metrics
