// Per-layer and per-head attention signatures: what `bentov analyze` reduces one forward
// pass to (DESIGN.md section 3, the "layers" of the JSON).
#pragma once

#include <limits>
#include <vector>

namespace bentov::metrics {

// One head's matrix through the same formulas as the layer's.
struct HeadSignature {
  double locality;  // attention_locality of this head's (n, n) probabilities
  double entropy;   // attention_entropy of this head's (n, n) probabilities
};

// One layer: the metrics of A = the layer's attention averaged over heads.
struct LayerSignature {
  int index;                         // layer number, 0-based
  double locality;                   // attention_locality(A)
  double entropy;                    // attention_entropy(A)
  double sheaf_trace;                // (sum A - trace A) * value_frob_sq
  double value_frob_sq;              // ||W_V||_F^2 of this layer (NaN when not supplied)
  std::vector<HeadSignature> heads;  // (n_heads), in head order

  // Sink-aware extras (attention_metrics.h); NaN when not computed.
  static constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();
  double sink_mass = kUnset;              // (1/n) sum_i A[i][0]
  double locality_no_sink = kUnset;       // locality of A[1:, 1:] row-renormalized
  double entropy_no_sink = kUnset;        // entropy of A[1:, 1:] row-renormalized
  double row_entropy_mean = kUnset;       // mean over rows of each row's entropy
  double sheaf_trace_per_token = kUnset;  // sheaf_trace / n
};

}  // namespace bentov::metrics
