// Per-layer and per-head attention signatures: what `bentov analyze` reduces one forward
// pass to (DESIGN.md section 3, the "layers" of the JSON).
#pragma once

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
};

}  // namespace bentov::metrics
