// `analyze --csv F`: one row per (model, layer) (DESIGN.md section 3).
#pragma once

#include <filesystem>
#include <string>

#include "bentov/analysis/results.h"

namespace bentov::report {

// Header "model,layer,locality,entropy,sheaf_trace,value_frob_sq", then one row per layer
// of every model analyzed, in order. Numbers in shortest round-trip form; NaN and
// infinities as empty fields; a model name with a comma, quote or newline is quoted
// (RFC 4180). Lines end with "\n".
std::string to_csv(const AnalysisReport& report);

// Writes to_csv(report) to `path` atomically. Throws IoError when it cannot.
void write_csv(const std::filesystem::path& path, const AnalysisReport& report);

}  // namespace bentov::report
