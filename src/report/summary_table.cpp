#include "bentov/report/summary_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>

namespace bentov::report {

// The notebook's columns, left-aligned under a rule; the Model column widens to the longest
// name so that every column stays aligned.
std::string format_summary_table(const AnalysisReport& report) {
  std::size_t name_w = 20;
  for (const auto& m : report.models) name_w = std::max(name_w, m.name.size() + 2);
  for (const auto& f : report.failures) {
    name_w = std::max(name_w, display_name(f.source).size() + 2);
  }
  const std::size_t width = name_w + 10 + 12 + 16 + 9;  // "Deviation" is 9 wide
  const std::string rule(width, '-');

  std::string out;
  out += fmt::format("{:<{}}{:<10}{:<12}{:<16}{}\n", "Model", name_w, "Layers", "L* (L/2)",
                     "L* (empirical)", "Deviation");
  out += rule + "\n";
  for (const auto& m : report.models) {
    out += fmt::format("{:<{}}{:<10}{:<12}{:<16}{}\n", m.name, name_w, m.n_layers,
                       m.l_star_theoretical, m.l_star_empirical, m.deviation);
  }
  for (const auto& f : report.failures) {
    std::string error = f.error;  // one line, whatever the caller passed
    std::replace(error.begin(), error.end(), '\n', ' ');
    out += fmt::format("{:<{}}FAILED: {}\n", display_name(f.source), name_w, error);
  }
  out += rule + "\n";
  if (report.mean_deviation) {
    out += fmt::format("Mean deviation: {:.1f} layers\n", *report.mean_deviation);
  } else {
    out += "Mean deviation: n/a (no model analyzed)\n";
  }
  return out;
}

}  // namespace bentov::report
