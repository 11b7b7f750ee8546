// L* estimators beyond the notebook's argmax rule. The notebook's single rule on a
// single sentence put L* anywhere between layer 2 and 16 depending on the rule and the text;
// these estimators, side by side, show whether a transition is a robust feature of the
// profile or an artefact of one rule. All work on per-layer series indexed 0..L-1.
#pragma once

#include <optional>
#include <span>
#include <vector>

namespace bentov::analysis {

// A two-segment piecewise-linear least-squares fit of y over x = 0..L-1: one line through
// layers [0, b) and another through [b, L), evaluated exactly at every break b = 2..L-2
// (each segment spans >= 2 layers); the best (smallest residual sum of squares; the first b
// on ties, so a knee at layer k that both b = k and b = k + 1 fit exactly reports k) is kept
// and compared with the single line y ~ a + c x by BIC with Gaussian errors of unknown
// variance:
//   BIC = L ln(RSS / L) + p ln L,  p = 5 for the two segments (two lines and the break),
//   2 for the line.
// The segments need not meet, so both a knee (a change of slope) and a step (a jump between
// two layers) are fitted exactly; `break_layer` is the first layer of the second regime.
// RSS is floored at max(1e-12 TSS, 1e-24 sum y^2, 1e-300) (what is left below is rounding,
// e.g. of float attention), so exact fits compare by their penalties: a series that is a
// straight line never supports a break. The break is `supported` when BIC(two segments) <
// BIC(line), i.e. delta_bic = BIC(line) - BIC(two segments) > 0.
struct TwoSegmentFit {
  int break_layer = 0;         // b: the first layer of the second segment
  bool supported = false;      // delta_bic > 0
  double delta_bic = 0.0;      // BIC(line) - BIC(two segments); > 0 favours the break
  double bic_two_segment = 0.0;
  double bic_line = 0.0;
  double rss_two_segment = 0.0;
  double rss_line = 0.0;
  double slope_before = 0.0;   // slope of the line through [0, b)
  double slope_after = 0.0;    // slope of the line through [b, L)
};

// nullopt when L < 5 (too few layers to pay for 5 parameters) or any value is not finite.
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
