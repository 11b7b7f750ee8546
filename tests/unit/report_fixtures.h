// A small hand-made AnalysisReport shared by the report tests.
#pragma once

#include <cmath>
#include <limits>
#include <string>

#include "bentov/analysis/results.h"

namespace bentov::report::testing {

// Model `name` with `n_layers` layers of a sigmoid-shaped locality drop around `mid`.
inline ModelReport fake_model(const std::string& name, int n_layers, double mid,
                              double frob = 100.0) {
  ModelReport m;
  m.name = name;
  m.source = "EleutherAI/" + name;
  m.architecture = "gpt_neox";
  m.n_layers = n_layers;
  m.n_heads = 2;
  m.token_ids = {464, 7531, 3450};
  for (int l = 0; l < n_layers; ++l) {
    LayerSignature s;
    s.index = l;
    s.locality = 0.9 - 0.5 / (1.0 + std::exp(-(l - mid) * 1.5));
    s.entropy = 2.0 + 0.1 * l;
    s.value_frob_sq = frob * (l + 1);
    s.sheaf_trace = (1.0 - s.locality) * 10.0 * s.value_frob_sq;
    s.heads = {{s.locality - 0.01, s.entropy + 0.02}, {s.locality + 0.01, s.entropy - 0.02}};
    m.layers.push_back(s);
  }
  compute_l_star(m);
  return m;
}

inline AnalysisReport fake_report() {
  AnalysisReport r;
  r.bentov_version = "0.1.0";
  r.text = "The fundamental nature of reality";
  r.models.push_back(fake_model("pythia-160m", 12, 3.2));
  r.models.push_back(fake_model("pythia-410m", 24, 9.4, 300.0));
  r.models.push_back(fake_model("gpt2", 12, 5.1, 2000.0));
  r.models.push_back(fake_model("opt-125m", 12, 2.2, 50.0));
  r.failures.push_back({"/models/broken", {"tensor 'h.0.attn.c_attn.weight' is missing", ""}});
  compute_mean_deviation(r);
  return r;
}

}  // namespace bentov::report::testing
