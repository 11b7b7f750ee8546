// L* (the "Bentov Point") estimators and the deviation between them (DESIGN.md section 4).
#pragma once

#include <optional>
#include <span>
#include <vector>

namespace bentov::analysis {

// numpy.gradient(y) with unit spacing and edge_order=1: one-sided differences at the ends
// (y[1] - y[0], y[n-1] - y[n-2]), central differences (y[i+1] - y[i-1]) / 2 inside.
// numpy raises for fewer than 2 elements; here a size-1 series has gradient {0} (a constant
// has no slope) and an empty one has an empty gradient.
std::vector<double> numpy_gradient(std::span<const double> y);

// The hypothesis: L* = n_layers // 2 (floor division; n_layers >= 0).
int l_star_theoretical(int n_layers);

// The notebook's estimate: np.argmax(np.abs(np.gradient(locality))): the layer where
// locality changes fastest. The first index wins ties; a NaN counts as the maximum (numpy's
// argmax returns the first NaN). A 1-layer model gives 0 (numpy would raise). Throws
// InputError for an empty series.
int l_star_argmax_gradient(std::span<const double> locality);

// |empirical - theoretical|, in layers.
int l_star_deviation(int empirical, int theoretical);

// Mean of the deviations of the models analyzed; nullopt when there are none.
std::optional<double> mean_deviation(std::span<const int> deviations);

}  // namespace bentov::analysis
