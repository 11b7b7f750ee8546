// Two models of one architecture side by side (base vs fine-tuned, or two checkpoints):
// per-layer and per-head differences of the signatures, and the shift in L*.
#pragma once

#include <vector>

#include "bentov/analysis/results.h"

namespace bentov::analysis {

struct LayerDelta {
  int index = 0;
  double locality = 0, entropy = 0, sheaf_trace = 0, sink_mass = 0;  // B - A
  std::vector<HeadSignature> heads;  // (n_heads) B - A of each head's locality and entropy
};

struct Comparison {
  ModelReport a, b;
  std::vector<LayerDelta> layers;  // (n_layers)
  int l_star_shift = 0;            // b.l_star_empirical - a.l_star_empirical
  double max_abs_locality_delta = 0;
  int max_abs_locality_layer = 0;
};

// Throws UsageError when the two differ in layers or heads (not comparable layer by layer).
Comparison compare_models(const ModelReport& a, const ModelReport& b);

}  // namespace bentov::analysis
