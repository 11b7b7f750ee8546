// Two models over the same texts (consecutive checkpoints of a sweep, or B against A in a
// compare): every shift with a paired bootstrap interval and a paired permutation test.
//
// Texts are paired by their corpus line (a text one model skipped, having fewer than 2 tokens,
// drops out of the pair). Each statistic is B - A of a mean over the paired texts.
//
// Interval: texts resampled with replacement, the SAME resample for A and B, so what the two
// share (which texts are hard) cancels; 95% percentile interval of the replicates (nearest-rank
// for L*), widened to contain the point estimate.
//
// Tests of "no shift": for each mean difference (per-layer metrics, loss, the per-text L*),
// a paired sign-flip permutation test: under H0 the two models' values of a text are
// exchangeable, so each permutation swaps A and B within each text with probability 1/2;
// p = (1 + #{|T*| >= |T|}) / (1 + P), two-sided. The L* of the mean profiles is an argmax, for
// which swapping within texts always gives two complementary mixtures and so no usable null;
// its p-value is the paired bootstrap's two-sided test of 0 (bootstrap_p_value).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/corpus_stats.h"

namespace bentov::analysis {

inline constexpr const char* kPairedMethod =
    "paired over the texts both models analyzed, matched by corpus line; ci95: bootstrap percentile interval "
    "(texts resampled with replacement, the same resample for both models); p_value of a mean difference "
    "(per-layer metrics, loss, L_star_per_text): two-sided paired sign-flip permutation test (the two values "
    "of each text swapped with probability 1/2; p = (1 + #{|T*| >= |T|}) / (1 + P), P = the number of "
    "bootstrap resamples); p_value of L_star (argmax of the mean locality profiles): two-sided paired "
    "bootstrap test of 0";

// One shift B - A.
struct PairedStat {
  double value = LayerSignature::kUnset;  // on all paired texts
  double lo = LayerSignature::kUnset, hi = LayerSignature::kUnset;
  double p_value = LayerSignature::kUnset;
  bool excludes_zero() const { return lo > 0.0 || hi < 0.0; }
};

struct PairedLayer {
  int index = 0;
  PairedStat locality, entropy, sheaf_trace, sheaf_trace_per_token, sink_mass, locality_no_sink, entropy_no_sink,
      row_entropy_mean;
};

struct PairedShift {
  int n_texts = 0;                 // texts both models analyzed
  int resamples = 0;               // bootstrap resamples = permutations
  PairedStat l_star;               // L*(B) - L*(A), L* of each side's mean locality profile
  PairedStat l_star_per_text;      // mean over texts of each text's own L*(B) - L*(A)
  std::vector<PairedLayer> layers;  // (n_layers)
  std::optional<PairedStat> loss;  // --loss: mean loss of B - A
};

// B - A over the texts both have. Throws InputError when they share no text or differ in
// layers. bootstrap >= 1; the same seed gives the same resamples and permutations.
PairedShift paired_shift(const std::vector<TextSignature>& a, const std::vector<TextSignature>& b, int bootstrap,
                         std::uint64_t seed);

// Spearman's rank correlation across checkpoints between L* / L (of each checkpoint's mean
// locality profile) and its mean loss, over the texts every checkpoint has; the interval
// resamples those texts (the same resample for every checkpoint). nullopt with fewer than 3
// checkpoints or without losses; rho is NaN when either side is constant.
struct RankCorrelation {
  std::string method = "Spearman's rho of L*/L and mean loss across checkpoints (average ranks for ties)";
  int n_checkpoints = 0;
  int n_texts = 0;
  double rho = LayerSignature::kUnset;
  double lo = LayerSignature::kUnset, hi = LayerSignature::kUnset;  // 95% bootstrap percentile interval
};
std::optional<RankCorrelation> l_star_loss_correlation(const std::vector<std::vector<TextSignature>>& checkpoints,
                                                       int bootstrap, std::uint64_t seed);

}  // namespace bentov::analysis
