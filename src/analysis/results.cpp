#include "bentov/analysis/results.h"

#include <cmath>
#include <vector>

#include "bentov/analysis/l_star.h"

namespace bentov::analysis {

void compute_l_star(ModelReport& m) {
  std::vector<double> locality;
  locality.reserve(m.layers.size());
  for (const auto& layer : m.layers) locality.push_back(layer.locality);
  m.l_star_theoretical = analysis::l_star_theoretical(m.n_layers);
  m.l_star_empirical = analysis::l_star_argmax_gradient(locality);
  m.deviation = analysis::l_star_deviation(m.l_star_empirical, m.l_star_theoretical);
}

void compute_estimators(ModelReport& m) {
  std::vector<double> locality, entropy, trace, per_token;
  bool all_per_token = true;
  for (const auto& l : m.layers) {
    locality.push_back(l.locality);
    entropy.push_back(l.entropy);
    trace.push_back(l.sheaf_trace);
    per_token.push_back(l.sheaf_trace_per_token);
    all_per_token = all_per_token && std::isfinite(l.sheaf_trace_per_token);
  }
  m.estimators = estimate_all(locality, entropy, all_per_token ? per_token : trace);
}

void compute_mean_deviation(AnalysisReport& r) {
  std::vector<int> deviations;
  deviations.reserve(r.models.size());
  for (const auto& m : r.models) deviations.push_back(m.deviation);
  r.mean_deviation = analysis::mean_deviation(deviations);
}

std::string display_name(const std::string& source) {
  std::string s = source;
  while (s.size() > 1 && (s.back() == '/' || s.back() == '\\')) s.pop_back();
  const auto slash = s.find_last_of("/\\");
  if (slash == std::string::npos || slash + 1 >= s.size()) return s;
  return s.substr(slash + 1);
}

}  // namespace bentov::analysis
