#include "bentov/analysis/compare.h"

#include <cmath>

#include "bentov/error.h"

namespace bentov::analysis {

Comparison compare_models(const ModelReport& a, const ModelReport& b) {
  if (a.architecture != b.architecture) {
    throw UsageError("cannot compare " + a.name + " (" + a.architecture + ") with " + b.name + " (" +
                         b.architecture + "): different architectures",
                     "compare two checkpoints of one architecture (base vs fine-tuned)");
  }
  if (a.n_layers != b.n_layers || a.n_heads != b.n_heads || a.layers.size() != b.layers.size()) {
    throw UsageError("cannot compare " + a.name + " (" + std::to_string(a.n_layers) + " layers x " +
                         std::to_string(a.n_heads) + " heads) with " + b.name + " (" +
                         std::to_string(b.n_layers) + " x " + std::to_string(b.n_heads) + ")",
                     "compare two checkpoints of the same architecture and size");
  }
  Comparison c{a, b, {}, b.l_star_empirical - a.l_star_empirical, 0.0, 0};
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    const auto& la = a.layers[l];
    const auto& lb = b.layers[l];
    LayerDelta d;
    d.index = la.index;
    d.locality = lb.locality - la.locality;
    d.entropy = lb.entropy - la.entropy;
    d.sheaf_trace = lb.sheaf_trace - la.sheaf_trace;
    d.sink_mass = lb.sink_mass - la.sink_mass;
    for (std::size_t h = 0; h < la.heads.size() && h < lb.heads.size(); ++h) {
      d.heads.push_back({lb.heads[h].locality - la.heads[h].locality, lb.heads[h].entropy - la.heads[h].entropy});
    }
    if (std::fabs(d.locality) > c.max_abs_locality_delta) {
      c.max_abs_locality_delta = std::fabs(d.locality);
      c.max_abs_locality_layer = d.index;
    }
    c.layers.push_back(std::move(d));
  }
  return c;
}

}  // namespace bentov::analysis
