// The notebook's summary table, printed on stdout by `bentov analyze` (DESIGN.md section 3).
#pragma once

#include <string>

#include "bentov/analysis/results.h"

namespace bentov::report {

// Columns Model, Layers, L* (L/2), L* (empirical), Deviation, one row per model analyzed,
// then one row per failure ("<name>  FAILED: <error>"), then "Mean deviation: X.X layers"
// ("Mean deviation: n/a (no model analyzed)" when none was). Ends with a newline.
std::string format_summary_table(const AnalysisReport& report);

}  // namespace bentov::report
