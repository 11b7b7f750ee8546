// `analyze` and `sweep` as distributed, resumable runs: what the command line
// calls instead of analysis::analyze_models / analyze_corpus when the run has several ranks
// or --resume is given. Rank 0 plans (plan.h), coordinates (coordinator.h), merges
// (merge.h) and returns the report the single-process function would have returned; every
// other rank calls serve_rank and writes nothing.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/distrib/plan.h"
#include "bentov/distrib/session.h"

namespace bentov::distrib {

struct DistribOptions {
  // The run's primary output (the JSON); the journal lives beside it (journal_path). No
  // output: no journal, and --resume is refused.
  std::optional<std::filesystem::path> primary_output;
  bool resume = false;
  std::size_t shard_texts = kDefaultShardTexts;  // corpus texts per work item
};

// Whether a run goes through here: several ranks, or --resume.
bool distributed(const Session& session, const DistribOptions& options);

analysis::AnalysisReport analyze_models(Session& session, const std::vector<std::string>& specs,
                                        const analysis::TextSource& source, const analysis::RunOptions& options,
                                        const DistribOptions& distrib);

analysis::AnalysisReport analyze_corpus(Session& session, const std::vector<std::string>& specs,
                                        const analysis::Corpus& corpus, const analysis::RunOptions& options,
                                        const analysis::CorpusOptions& corpus_options,
                                        const DistribOptions& distrib);

// A rank other than 0: runs the items rank 0 hands out; progress lines prefixed "rank R: ".
// Returns the exit status (0; rank 0 reports the run's status).
int serve_rank(Session& session, const analysis::RunOptions& options);

// Once the outputs are written: deletes the journal when every checkpoint was analyzed (a
// run with failures keeps it, so that --resume after a fix redoes only the failed items).
void run_complete(const DistribOptions& distrib, const analysis::AnalysisReport& report);

}  // namespace bentov::distrib
