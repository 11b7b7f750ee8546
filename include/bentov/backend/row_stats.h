// The row statistics contract between a backend's attention kernel and the metrics (DESIGN.md
// section 1): every query row of every head, and of the head-averaged matrix, reduced to the sums
// the metrics finish from (metrics/row_metrics.h), so that attention probabilities need not
// leave the device. All sums in double; eps = 1e-10, the notebook's entropy threshold.
#pragma once

namespace bentov {

// Query row i of one head's probabilities p (keys j <= i; zero beyond).
struct HeadRowStats {
  double mass;      // sum_j p_j
  double weighted;  // sum_j p_j |i - j|
  double kept;      // sum of the p_j > eps
  double plogp;     // sum over those of p_j log(p_j / n + eps)
};

// Query row i of the head average a_j = (1 / H) sum_h p_hj (in double), and of its float rounding
// a_f,j (the float path of the notebook's metrics).
struct LayerRowStats {
  double mass;              // sum_j a_j
  double weighted;          // sum_j a_j |i - j|
  double off_diagonal;      // sum_{j != i} a_j
  double sink;              // a_0
  double no_sink_rows;      // 1 when i >= 1 and z = sum_{j >= 1} a_j > 0, else 0
  double no_sink_weighted;  // (sum_{j >= 1} a_j |i - j|) / z, or 0
  double kept;              // sum of the a_f,j > eps
  double plogp;             // sum over those of a_f,j log(a_f,j / n + eps)
  double kept_no_sink;      // for i >= 1 with z_f = sum_{j >= 1} a_f,j > 0: w = 1 / z_f and
  double plogp_no_sink;     //   w sum_{j >= 1, a_f,j > eps / w} a_f,j [and a_f,j log(a_f,j w / (n - 1) + eps)]
  double row_entropy;       // H_i = -sum_{a_f,j > eps} (a_f,j / k) log(a_f,j / k + eps), k = kept
};

}  // namespace bentov
