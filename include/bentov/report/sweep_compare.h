// Outputs of `bentov sweep` (one model over an ordered series of checkpoints) and
// `bentov compare` (two models layer by layer).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bentov/analysis/compare.h"
#include "bentov/analysis/paired.h"
#include "bentov/analysis/series.h"
#include "bentov/analysis/results.h"

namespace bentov::report {

using analysis::SweepCorpus;

// Checkpoint | L* (L/2) | L* (empirical) | locality range; failures as FAILED rows; in a corpus
// sweep also L*'s 95% CI and the loss, then the shifts between consecutive checkpoints.
std::string format_sweep_table(const AnalysisReport& sweep, const SweepCorpus* corpus = nullptr);
// The analyze JSON plus "sweep": {"checkpoints": [names], "L_star_empirical": [..]}; a corpus
// sweep adds "L_star_ci95", "L_star_ratio", "loss" (null without --loss), "shifts" [{"from",
// "to", paired_json}], "rank_correlation" and "method".
nlohmann::json sweep_to_json(const AnalysisReport& sweep, const SweepCorpus* corpus = nullptr);
// B - A of a paired shift: {"n_texts", "resamples", "L_star", "L_star_per_text", "layers": [{index,
// locality: {delta, ci95, p_value}, ...}], "loss"}.
nlohmann::json paired_json(const analysis::PairedShift& shift);
// 2x2: (a) L* empirical and L/2 per checkpoint, (b) locality, (c) entropy, (d) sink mass as
// heatmaps layer x checkpoint. PNG or SVG by extension. Needs >= 1 analyzed checkpoint, all
// with the same number of layers.
void write_sweep_plot(const std::filesystem::path& path, const AnalysisReport& sweep);

// With a paired shift (compare --corpus): each delta's 95% CI, '*' where it excludes 0, and the
// L* shift and loss difference with their CIs and p-values.
std::string format_compare_table(const analysis::Comparison& c, const analysis::PairedShift* paired = nullptr);
// compare.json; with a paired shift also "paired": paired_json and "method".
nlohmann::json compare_to_json(const analysis::Comparison& c, const analysis::PairedShift* paired = nullptr);
// 1x2: (a) locality per layer of A and B (layers whose paired CI of the locality delta
// excludes 0 marked), (b) per-head locality difference B - A (heatmap).
void write_compare_plot(const std::filesystem::path& path, const analysis::Comparison& c,
                        const analysis::PairedShift* paired = nullptr);

}  // namespace bentov::report
