// L* estimators beyond the notebook's argmax rule (issue 8). The notebook's single rule on a
// single sentence put L* anywhere between layer 2 and 16 depending on the rule and the text;
// these estimators, side by side, show whether a transition is a robust feature of the
// profile or an artefact of one rule. All work on per-layer series indexed 0..L-1.
#pragma once

#include <optional>
#include <span>
#include <vector>

namespace bentov::analysis {

// A continuous two-segment ("broken stick") least-squares fit of y over x = 0..L-1:
//   y ~ a + b x + c (x - k)_+          (the slope is b before layer k and b + c after it)
// evaluated exactly at every candidate break k = 1..L-2 (both segments span >= 2 layers),
// the best (smallest residual sum of squares, first k on ties) kept, and compared with the
// single line y ~ a + b x by BIC with Gaussian errors of unknown variance:
//   BIC = L ln(RSS / L) + p ln L,  p = 4 for the two segments (a, b, c and the break), 2 for
//   the line.
// RSS is floored at 1e-12 * TSS (and at 1e-300), so exact fits compare by their penalties:
// a series that is a straight line never supports a break. The break is `supported` when
// BIC(two segments) < BIC(line), i.e. delta_bic = BIC(line) - BIC(two segments) > 0.
struct TwoSegmentFit {
  int break_layer = 0;         // k
  bool supported = false;      // delta_bic > 0
  double delta_bic = 0.0;      // BIC(line) - BIC(two segments); > 0 favours the break
  double bic_two_segment = 0.0;
  double bic_line = 0.0;
  double rss_two_segment = 0.0;
  double rss_line = 0.0;
  double slope_before = 0.0;   // b
  double slope_after = 0.0;    // b + c
};

// nullopt when L < 4 (fewer than 4 layers cannot pay for 4 parameters) or any value is NaN.
std::optional<TwoSegmentFit> two_segment_fit(std::span<const double> y);

// The original paper's rule on the sheaf trace: the first layer l (1 <= l <= L-2) where the
// forward difference d_l = t[l+1] - t[l] turns from positive to negative, i.e. the first
// local maximum of the trace: t[l] - t[l-1] > 0 and the next non-zero difference after it is
// negative (a flat top t[l] = t[l+1] = ... reports its first layer). nullopt when the trace
// never rises and then falls, when L < 3, or when a value is not finite (no W_V).
std::optional<int> trace_sign_change(std::span<const double> trace);

// Agreement across three views of the transition: argmax |np.gradient| of locality (the
// notebook's rule), of entropy, and the trace's sign change (when it has one).
//   layer  = the median of the available estimates (the lower middle one when there are two)
//   spread = max - min of the available estimates
//   agree  = spread <= tolerance (1 layer: neighbouring layers count as agreement)
struct Consensus {
  int layer = 0;
  int spread = 0;
  bool agree = false;
  int n_estimates = 0;                  // 2 or 3
  int locality = 0;                     // argmax |gradient(locality)|
  int entropy = 0;                      // argmax |gradient(entropy)|
  std::optional<int> trace;             // trace_sign_change
};
inline constexpr int kConsensusTolerance = 1;

// Throws InputError for empty series; locality and entropy must have the same length.
Consensus consensus(std::span<const double> locality, std::span<const double> entropy,
                    std::span<const double> trace);

// All estimators of one profile (the JSON's "estimators" object).
struct Estimators {
  int argmax_gradient = 0;                 // l_star_argmax_gradient(locality)
  std::optional<TwoSegmentFit> two_segment;  // of locality
  std::optional<int> trace_sign_change;    // of the trace (per token)
  Consensus consensus;
};

Estimators estimate_all(std::span<const double> locality, std::span<const double> entropy,
                        std::span<const double> trace);

}  // namespace bentov::analysis
