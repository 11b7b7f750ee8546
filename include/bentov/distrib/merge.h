// Rank 0's last step: the items' results, visited in plan order (the order in which the
// single-process run computes them), turned into the report analyze_models /
// analyze_corpus return, through their own functions (compute_l_star, compute_estimators,
// finish_model_corpus, compute_mean_deviation, cross_model_summary). Same inputs, same
// order, same code: the same report, bootstrap included.
#pragma once

#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/analysis/results.h"
#include "bentov/distrib/item_result.h"
#include "bentov/distrib/plan.h"

namespace bentov::distrib {

// Text mode: results[i] is item i's (one per spec).
analysis::AnalysisReport merge_text(const Plan& plan, std::vector<ItemResult> results,
                                    const analysis::RunOptions& options);

// Corpus mode: a spec's ranges are concatenated in corpus order up to its first failing
// range, whose error becomes the spec's failure (as the single-process run stops at its
// first failing text). corpus_options.on_text sees every text the single-process run would
// have passed it, in the same order.
analysis::AnalysisReport merge_corpus(const Plan& plan, std::vector<ItemResult> results,
                                      const analysis::RunOptions& options,
                                      const analysis::CorpusOptions& corpus_options);

}  // namespace bentov::distrib
