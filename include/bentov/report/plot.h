// `analyze --plot F.png|F.svg`: the notebook's 2x2 figure (DESIGN.md section 3), drawn by
// gnuplot's cairo terminals, run as a child process on a script generated here.
//   (a) Attention Locality per layer   (b) Attention Entropy per layer
//   (c) Sheaf Laplacian Trace per layer, log y axis (non-positive values skipped)
//   (d) L* theoretical vs empirical, grouped bars per model
// (a)-(c): one line with markers per model, one colour per model, a dashed vertical line
// at the model's L/2 in its colour. 14 x 10 inches at 150 dpi: PNG 2100 x 1500 px; SVG
// 1400 x 1000 (same aspect).
#pragma once

#include <filesystem>
#include <string>

#include "bentov/analysis/results.h"

namespace bentov::report {

enum class PlotFormat { kPng, kSvg };

// The figure's size in pixels for `format`.
inline constexpr int kPlotPngWidth = 2100, kPlotPngHeight = 1500;
inline constexpr int kPlotSvgWidth = 1400, kPlotSvgHeight = 1000;

// PlotFormat for ".png" / ".svg" (case-insensitive); UsageError for any other extension.
PlotFormat plot_format_for(const std::filesystem::path& path);

// The complete gnuplot script that draws `report` into `output` (data inline). Throws
// InputError when the report has no model to draw.
std::string gnuplot_script(const AnalysisReport& report, PlotFormat format,
                           const std::filesystem::path& output);

// Draws the figure to `path` atomically (gnuplot writes a temporary sibling, renamed on
// success). The gnuplot executable is $BENTOV_GNUPLOT when set, else `gnuplot` on PATH.
// Throws UsageError for an extension other than .png/.svg, InputError when no model was
// analyzed, IoError (with an install hint) when gnuplot is missing or fails.
void write_plot(const std::filesystem::path& path, const AnalysisReport& report);

}  // namespace bentov::report
