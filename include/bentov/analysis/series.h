// A corpus through a series of checkpoints (sweep --corpus) or through two models
// (compare --corpus), with the paired statistics of analysis/paired.h between them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/corpus.h"
#include "bentov/analysis/paired.h"
#include "bentov/analysis/pipeline.h"

namespace bentov::analysis {

// What a corpus sweep adds: the shift between each pair of consecutive analyzed checkpoints
// (over the texts both have) and, with losses, the rank correlation of L*/L and loss.
struct SweepCorpus {
  std::vector<PairedShift> shifts;  // (analyzed checkpoints - 1): checkpoint k -> k + 1
  std::optional<RankCorrelation> correlation;
};

struct CorpusSweep {
  AnalysisReport report;  // as analyze_corpus gives it
  SweepCorpus paired;
};

// Every spec over the corpus (failures collected as analyze_corpus does), then the paired
// statistics between consecutive checkpoints, with co.bootstrap resamples from co.seed.
CorpusSweep sweep_corpus(const std::vector<std::string>& specs, const Corpus& corpus, RunOptions options,
                         CorpusOptions co);

struct CorpusComparison {
  Comparison comparison;  // of the two models' corpus means
  PairedShift paired;     // B - A over the texts both have
};

// A and B over the corpus; a model that fails throws.
CorpusComparison compare_corpus(const std::string& a, const std::string& b, const Corpus& corpus,
                                RunOptions options, CorpusOptions co);

}  // namespace bentov::analysis
