// The notebook's summary table, printed on stdout by `bentov analyze` (DESIGN.md section 3).
#pragma once

#include <string>

#include "bentov/analysis/results.h"

namespace bentov::report {

struct TableOptions {
  // Add the estimators' columns (`analyze --estimators`): "Two-segment" (the break, then
  // "BIC+" when supported or "BIC-" when a straight line is preferred), "Trace +/-" (the
  // trace's sign change, "-" when none) and "Consensus" (the median, then "agree" or the
  // spread in layers).
  bool estimators = false;
};

// Columns Model, Layers, L* (L/2), L* (empirical), Deviation, one row per model analyzed,
// then one row per failure ("<name>  FAILED: <error>"), then "Mean deviation: X.X layers"
// ("Mean deviation: n/a (no model analyzed)" when none was). Ends with a newline.
// In a corpus run, L* (empirical) is that of the mean locality profile, and the columns
// "Texts", "L* 95% CI" and "L* mode" follow; after the mean deviation, one line per model
// "L*/L <name>: 0.50 [0.38, 0.62], p = 0.91 (vs 0.5)" and the mean over models.
std::string format_summary_table(const AnalysisReport& report, const TableOptions& options);
std::string format_summary_table(const AnalysisReport& report);

}  // namespace bentov::report
