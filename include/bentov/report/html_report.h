// `--html F.html` (and DIR/report.html under --out) of analyze, sweep and compare: one
// self-contained, offline HTML page (its own script and style inline, a Content-Security-Policy
// that forbids every network request) that shows, per model, the per-layer curves with L*,
// L/2 and each estimator (CI bands in a corpus run); for one text, the layers x heads grid of
// every head's attention thumbnail with its locality and entropy, opening into the full pattern
// (canvas, native resolution, token labels, hover readouts, log scale and sink toggles); in a
// sweep, L* and heatmaps over checkpoints; in a compare, the per-layer and per-head deltas.
//
// The page embeds the command's own JSON (to_json, sweep_to_json, compare_to_json) as its data,
// so every number it shows is the JSON's; patterns come from a PatternCollector
// (pattern_capture.h) in the encodings of pattern_encoding.h, one base64 blob per head in a
// non-executed <script type="application/octet-stream">, decoded only when drawn. The page
// stays under kHtmlMaxBytes: thumbnails shrink (256, 128, ... cells a side) to fit their
// budget, full patterns are kept for as many heads as fit theirs, and the page says which.
#pragma once

#include <filesystem>
#include <string>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/results.h"
#include "bentov/report/pattern_capture.h"

namespace bentov::report {

// The pages. `patterns` may be null (no grid, curves only).
std::string analyze_html(const AnalysisReport& report, const PatternCollector* patterns);
std::string sweep_html(const AnalysisReport& sweep, const PatternCollector* patterns);
std::string compare_html(const analysis::Comparison& comparison, const PatternCollector* patterns);

// Writes a page atomically. Throws IoError when it cannot.
void write_html(const std::filesystem::path& path, const std::string& page);

}  // namespace bentov::report
