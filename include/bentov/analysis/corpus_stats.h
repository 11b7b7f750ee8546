// Statistics over the texts of a corpus: per-layer means with bootstrap percentile
// intervals, the distribution of L* with its interval, L*/L against 0.5, per-head means.
//
// The bootstrap resamples TEXTS with replacement (a text's layers stay together, so the
// dependence between layers is kept). Replicate b draws n_texts indices with IndexSampler
// seeded once with `seed`; replicate b of every statistic comes from the same resample. With
// the same seed and the same number of texts, two models get the same resamples (a paired
// bootstrap, which the cross-model summary uses).
//
// L*: the point estimate is the notebook's rule (argmax |np.gradient|) applied to the MEAN
// locality profile; its interval is the percentile interval of that rule applied to each
// replicate's mean profile. Per-text L* (the rule on each text alone) are noisy; their
// distribution is reported as `counts`, `mode` and `mean`, with the mode's own interval.
//
// Every interval is widened, when needed, to contain its point estimate: a percentile
// interval can miss it by rounding when all replicates are equal, or for tiny samples.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bentov/analysis/results.h"

namespace bentov::analysis {

// One text through one model.
struct TextSignature {
  int line = 0;                        // line of the corpus file
  int n_tokens = 0;                    // tokens analyzed (after truncation)
  bool truncated = false;              // cut to max_tokens or the model's positions
  int l_star = 0;                      // argmax |np.gradient(locality)| of this text
  std::vector<LayerSignature> layers;  // (n_layers)
  std::optional<double> loss;          // --loss: mean next-token cross-entropy, nats per token
};

// Means, intervals and L* statistics of `texts` (non-empty, all with the same n_layers >= 1
// layers and n_heads heads). Fills every field of CorpusSummary but the file and the
// counters of skipped and truncated texts. bootstrap >= 1.
CorpusSummary summarize_corpus(const std::vector<TextSignature>& texts, int bootstrap,
                               std::uint64_t seed);

// The profile as the LayerSignatures of a ModelReport: each field the corpus mean, heads
// the per-head means, value_frob_sq as given per layer (NaN beyond its end).
std::vector<LayerSignature> mean_layers(const CorpusSummary& summary,
                                        const std::vector<double>& value_frob_sq);

// The mean over models of L*/L, replicate b averaging the models' replicates b; nullopt
// when no model has a corpus summary, or their replicate counts differ.
std::optional<CrossModelSummary> cross_model_summary(const std::vector<ModelReport>& models);

}  // namespace bentov::analysis
