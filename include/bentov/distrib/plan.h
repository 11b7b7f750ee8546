// What a distributed run does: the work items of `analyze` / `sweep` (checkpoint x
// corpus range) and everything a rank needs to run them. Rank 0 makes the plan and sends it
// to every other rank; nothing else is read from the command line or input files there.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bentov/analysis/corpus.h"
#include "bentov/analysis/pipeline.h"

namespace bentov::distrib {

enum class Mode {
  kText,    // analyze --text / --ids, sweep: one item per checkpoint
  kCorpus,  // analyze --corpus: one item per checkpoint and range of texts
};

// One unit of work: one checkpoint on the run's text, or on texts [begin, end) of the corpus.
struct WorkItem {
  std::size_t spec = 0;             // index into Plan::specs
  std::size_t begin = 0, end = 0;   // corpus texts [begin, end); 0, 0 in text mode
  double cost = 1.0;                // scheduling estimate (estimate_costs); not part of the result
};

struct Plan {
  Mode mode = Mode::kText;
  std::vector<std::string> specs;  // checkpoints as given, in command-line order
  analysis::TextSource source;     // kText
  analysis::Corpus corpus;         // kCorpus
  int max_tokens = 0;              // kCorpus: --max-tokens (0: the model's positions)
  std::size_t shard_texts = 0;     // kCorpus: texts per item
  int threads = 0;                 // --threads as given (0: each rank chooses, Session)
  // In aggregation order: spec by spec, a spec's ranges in corpus order. The single-process
  // run visits them in this order too, so rank 0 merges the results in it.
  std::vector<WorkItem> items;
};

// Texts per corpus item unless --shard-texts says otherwise. Small enough that four ranks
// share a 100-text corpus of one model, large enough that the per-item cost (one message,
// one journal file) stays negligible next to a forward pass.
inline constexpr std::size_t kDefaultShardTexts = 16;

Plan text_plan(const std::vector<std::string>& specs, const analysis::TextSource& source, int threads);
// Items of shard_texts texts each (the last may be shorter); shard_texts >= 1.
Plan corpus_plan(const std::vector<std::string>& specs, const analysis::Corpus& corpus, int max_tokens,
                 std::size_t shard_texts, int threads);

// Fills each item's cost: the checkpoint's weight bytes found without downloading (1 when
// unknown), times, in corpus mode, the item's text bytes (+ 64 per text).
void estimate_costs(Plan& plan);

// The plan as bytes (JSON) and back; decode_plan throws FormatError on anything malformed.
std::string encode_plan(const Plan& plan);
Plan decode_plan(std::string_view bytes);

// 16 hex digits (FNV-1a 64) of everything that decides the items' results: mode, specs,
// text or ids, corpus texts and lines, max_tokens, shard_texts and the items' ranges. Not
// threads, costs, bootstrap or seed (the bootstrap runs after the items, on rank 0).
std::string fingerprint(const Plan& plan);

// "pythia-demo" or "pythia-demo, texts 17-32" for messages (1-based, inclusive).
std::string describe_item(const Plan& plan, std::size_t item);

}  // namespace bentov::distrib
