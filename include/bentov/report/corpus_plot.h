// The figures of a corpus run (`analyze --corpus F --out DIR`), drawn by gnuplot's cairo
// terminal as PNG at 150 dpi, beside bentov_point_analysis.png (which a corpus run draws
// from the mean profile):
//   corpus_profiles.png      2x2: (a) locality, (b) locality without the sink (column 0
//                            excluded), (c) sink mass (attention on the first token),
//                            (d) mean row entropy; each the mean over texts per layer with its
//                            95% bootstrap band, one colour per model, dashed L/2 lines.
//   l_star_distribution.png  per model: histogram of the per-text L* (argmax rule), the L* of
//                            the mean profile (solid line) with its 95% interval (shaded) and
//                            L/2 (dashed).
//   l_star_ratio.png         L*/L per model and the mean over models, with 95% intervals and
//                            the bootstrap p-value against 0.5 (the dashed line).
//   head_maps.png            per model (rows): heatmaps layer x head of the mean locality and
//                            the mean entropy over texts, values written in the cells.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bentov/analysis/results.h"

namespace bentov::report {

// The gnuplot scripts, one per figure (data inline), drawing into `output`. Throw
// InputError when no model has a corpus summary.
std::string corpus_profiles_script(const AnalysisReport& report, const std::filesystem::path& output);
std::string l_star_distribution_script(const AnalysisReport& report, const std::filesystem::path& output);
std::string l_star_ratio_script(const AnalysisReport& report, const std::filesystem::path& output);
std::string head_maps_script(const AnalysisReport& report, const std::filesystem::path& output);

// Draws the four figures into `dir` (created when missing), atomically each; returns their
// paths. Throws InputError when no model has a corpus summary, IoError when gnuplot fails.
std::vector<std::filesystem::path> write_corpus_plots(const std::filesystem::path& dir,
                                                      const AnalysisReport& report);

}  // namespace bentov::report
