// The result of one work item, as it travels from a rank to rank 0 and into the journal:
// JSON whose doubles round-trip exactly (shortest round-trip digits; NaN and infinities as
// the strings "nan", "inf", "-inf"), so a merged report is bit-for-bit the single-process one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bentov/analysis/pipeline.h"
#include "bentov/analysis/results.h"

namespace bentov::distrib {

struct ItemResult {
  // Text mode: the checkpoint's report with name .. n_heads, token_ids and layers (rank 0
  // recomputes L* and the estimators from them, as analyze_model does). Corpus mode: the
  // checkpoint's header (name .. n_heads) when it loaded.
  analysis::ModelReport model;
  std::vector<double> value_frob_sq;  // corpus mode: (n_layers) when the checkpoint loaded
  analysis::CorpusTexts texts;        // corpus mode: the range's texts, up to a failing one
  std::optional<analysis::Failure> error;  // the item failed: why
};

// {"item": N, "error": ..., "model": {...}, "value_frob_sq": [...], "texts": [...], ...}.
// A layer is an array in LayerSignature's field order: [index, locality, entropy,
// sheaf_trace, value_frob_sq, sink_mass, locality_no_sink, entropy_no_sink,
// row_entropy_mean, sheaf_trace_per_token, [[head locality, head entropy], ...]].
std::string encode_result(std::size_t item, const ItemResult& result);

// Throws FormatError (naming `where`, e.g. the journal file) on anything malformed.
ItemResult decode_result(std::string_view bytes, const std::string& where, std::size_t* item = nullptr);

}  // namespace bentov::distrib
