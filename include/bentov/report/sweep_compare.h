// Outputs of `bentov sweep` (one model over an ordered series of checkpoints) and
// `bentov compare` (two models layer by layer).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/results.h"

namespace bentov::report {

// Checkpoint | L* (L/2) | L* (empirical) | locality range; failures as FAILED rows.
std::string format_sweep_table(const AnalysisReport& sweep);
// The analyze JSON plus "sweep": {"checkpoints": [names], "L_star_empirical": [..]}.
nlohmann::json sweep_to_json(const AnalysisReport& sweep);
// 2x2: (a) L* empirical and L/2 per checkpoint, (b) locality, (c) entropy, (d) sink mass as
// heatmaps layer x checkpoint. PNG or SVG by extension. Needs >= 1 analyzed checkpoint, all
// with the same number of layers.
void write_sweep_plot(const std::filesystem::path& path, const AnalysisReport& sweep);

std::string format_compare_table(const analysis::Comparison& c);
nlohmann::json compare_to_json(const analysis::Comparison& c);
// 1x2: (a) locality per layer of A and B, (b) per-head locality difference B - A (heatmap).
void write_compare_plot(const std::filesystem::path& path, const analysis::Comparison& c);

}  // namespace bentov::report
