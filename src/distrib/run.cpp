#include "bentov/distrib/run.h"

#include <system_error>

#include "bentov/distrib/journal.h"
#include "bentov/distrib/merge.h"
#include "bentov/error.h"

namespace bentov::distrib {
namespace fs = std::filesystem;

namespace {

std::optional<Journal> open_journal(const Plan& plan, const DistribOptions& d, const analysis::RunOptions& o) {
  if (!d.primary_output) {
    if (d.resume) {
      throw UsageError("--resume needs an output: the run's journal is kept beside it",
                       "add --out DIR or --json F (the same as in the interrupted run)");
    }
    return std::nullopt;
  }
  return std::optional<Journal>(std::in_place, journal_path(*d.primary_output), plan, d.resume, o.progress);
}

// Rank 0's threads: --threads, else this rank's share of its node.
analysis::RunOptions with_threads(const Session& s, analysis::RunOptions o) {
  if (o.threads <= 0) o.threads = s.default_threads();
  return o;
}

std::vector<ItemResult> run_plan(Session& session, Plan& plan, const analysis::RunOptions& options,
                                 const DistribOptions& distrib) {
  estimate_costs(plan);
  auto journal = open_journal(plan, distrib, options);
  return coordinate(plan, session.channel(), journal ? &*journal : nullptr, with_threads(session, options));
}

}  // namespace

bool distributed(const Session& session, const DistribOptions& options) {
  return session.size() > 1 || options.resume;
}

analysis::AnalysisReport analyze_models(Session& session, const std::vector<std::string>& specs,
                                        const analysis::TextSource& source, const analysis::RunOptions& options,
                                        const DistribOptions& distrib) {
  Plan plan = text_plan(specs, source, options.threads);
  auto results = run_plan(session, plan, options, distrib);
  return merge_text(plan, std::move(results), options);
}

analysis::AnalysisReport analyze_corpus(Session& session, const std::vector<std::string>& specs,
                                        const analysis::Corpus& corpus, const analysis::RunOptions& options,
                                        const analysis::CorpusOptions& corpus_options,
                                        const DistribOptions& distrib) {
  Plan plan = corpus_plan(specs, corpus, corpus_options.max_tokens, distrib.shard_texts, options.threads);
  auto results = run_plan(session, plan, options, distrib);
  return merge_corpus(plan, std::move(results), options, corpus_options);
}

int serve_rank(Session& session, const analysis::RunOptions& options) {
  analysis::RunOptions o = options;
  if (o.progress) {
    o.progress = [p = options.progress, r = session.rank()](const std::string& line) {
      p("rank " + std::to_string(r) + ": " + line);
    };
  }
  Link* link = session.link();
  if (!link) throw UsageError("internal: serve_rank on rank 0");
  o.threads = session.default_threads();  // unless the plan says --threads (serve)
  serve(*link, o);
  return 0;
}

void run_complete(const DistribOptions& distrib, const analysis::AnalysisReport& report) {
  if (!distrib.primary_output || !report.failures.empty()) return;
  std::error_code ec;
  fs::remove_all(journal_path(*distrib.primary_output), ec);
}

}  // namespace bentov::distrib
