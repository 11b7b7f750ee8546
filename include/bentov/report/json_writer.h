// `analyze --json F`: the one JSON object of DESIGN.md section 3 (fields may be added, none
// renamed). Doubles are written at full precision (round-trip); NaN and infinities as null.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "bentov/analysis/corpus_stats.h"
#include "bentov/analysis/results.h"

namespace bentov::report {

// Beside DESIGN.md's fields, per layer: sink_mass, locality_no_sink, entropy_no_sink, row_entropy_mean,
// sheaf_trace_per_token; per model: estimators {argmax_gradient, two_segment {break,
// supported, delta_bic, ...} | null, trace_sign_change | null, consensus {...}} and, in
// corpus runs, corpus {n_texts, L_star_empirical {mode, ci95, counts, ...}, L_star_ratio,
// profile [...]}; at the top, in corpus runs, corpus_file and cross_model.
// The report as JSON: bentov_version, text (null with --ids), models[] (name, source,
// architecture, n_layers, n_heads, token_ids, L_star_theoretical, L_star_empirical,
// deviation, layers[] (index, locality, entropy, sheaf_trace, value_frob_sq,
// heads[] (locality, entropy))), failures[] (source, error), mean_deviation (null when no
// model was analyzed). Keys sorted (nlohmann::json); write_json keeps the order above.
nlohmann::json to_json(const AnalysisReport& report);

// Writes to_json(report), in the order of DESIGN.md, indented, to `path` atomically.
// Invalid UTF-8 in a text or message is replaced by U+FFFD rather than failing.
// Throws IoError when the file cannot be written.
void write_json(const std::filesystem::path& path, const AnalysisReport& report);

// One line of `analyze --per-text F.jsonl` (no trailing newline): {"model", "line",
// "n_tokens", "truncated", "L_star_empirical", "layers": [{index, locality, entropy,
// sheaf_trace, sheaf_trace_per_token, sink_mass, locality_no_sink, entropy_no_sink,
// row_entropy_mean, heads: [{locality, entropy}]}]}.
std::string per_text_json_line(const std::string& model, const analysis::TextSignature& text);

// The text write_json writes.
std::string to_json_string(const AnalysisReport& report);

}  // namespace bentov::report
