// `analyze --json F`: the one JSON object of DESIGN.md section 3 (fields may be added, none
// renamed). Doubles are written at full precision (round-trip); NaN and infinities as null.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "bentov/analysis/results.h"

namespace bentov::report {

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

// The text write_json writes.
std::string to_json_string(const AnalysisReport& report);

}  // namespace bentov::report
