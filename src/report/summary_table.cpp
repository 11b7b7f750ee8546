#include "bentov/report/summary_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace bentov::report {
namespace {

struct Column {
  std::string title;
  std::size_t width;
};

std::string two_segment_cell(const analysis::Estimators& e) {
  if (!e.two_segment) return "n/a";
  return fmt::format("{} {}", e.two_segment->break_layer, e.two_segment->supported ? "BIC+" : "BIC-");
}

std::string consensus_cell(const analysis::Estimators& e) {
  const auto& c = e.consensus;
  return c.agree ? fmt::format("{} agree", c.layer) : fmt::format("{} spread {}", c.layer, c.spread);
}

std::string ratio_line(const std::string& label, const analysis::RatioTest& t) {
  return fmt::format("L*/L {}: {:.2f} [{:.2f}, {:.2f}], p = {:.3g} (vs 0.5)\n", label, t.value,
                     t.lo, t.hi, t.p_value);
}

}  // namespace

std::string format_summary_table(const AnalysisReport& report) {
  return format_summary_table(report, TableOptions{});
}

// The notebook's columns, left-aligned under a rule; the Model column widens to the longest
// name so that every column stays aligned.
std::string format_summary_table(const AnalysisReport& report, const TableOptions& options) {
  std::size_t name_w = 20;
  for (const auto& m : report.models) name_w = std::max(name_w, m.name.size() + 2);
  for (const auto& f : report.failures) {
    name_w = std::max(name_w, display_name(f.source).size() + 2);
  }
  const bool corpus = std::any_of(report.models.begin(), report.models.end(),
                                  [](const ModelReport& m) { return m.corpus.has_value(); });
  std::vector<Column> cols = {{"Layers", 10}, {"L* (L/2)", 12}, {"L* (empirical)", 16}};
  std::vector<Column> extra;
  if (corpus) extra.insert(extra.end(), {{"Texts", 8}, {"L* 95% CI", 12}, {"L* mode", 9}});
  if (options.estimators) {
    extra.insert(extra.end(), {{"Two-segment", 13}, {"Trace +/-", 11}, {"Consensus", 9}});
  }
  // "Deviation" is the last column of the notebook's table; extra columns come after it.
  const bool has_extra = !extra.empty();
  std::size_t width = name_w;
  for (const auto& c : cols) width += c.width;
  width += has_extra ? 11 : 9;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    width += i + 1 < extra.size() ? extra[i].width : std::max<std::size_t>(extra[i].width, 14);
  }
  const std::string rule(width, '-');

  auto row = [&](const std::string& name, const std::vector<std::string>& base,
                 const std::vector<std::string>& more) {
    std::string line = fmt::format("{:<{}}", name, name_w);
    for (std::size_t i = 0; i < cols.size(); ++i) line += fmt::format("{:<{}}", base[i], cols[i].width);
    line += has_extra ? fmt::format("{:<11}", base.back()) : base.back();
    for (std::size_t i = 0; i < more.size(); ++i) {
      line += i + 1 < more.size() ? fmt::format("{:<{}}", more[i], extra[i].width) : more[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };

  std::string out;
  {
    std::vector<std::string> base, more;
    for (const auto& c : cols) base.push_back(c.title);
    base.push_back("Deviation");
    for (const auto& c : extra) more.push_back(c.title);
    out += row("Model", base, more);
  }
  out += rule + "\n";
  for (const auto& m : report.models) {
    std::vector<std::string> base = {std::to_string(m.n_layers), std::to_string(m.l_star_theoretical),
                                     std::to_string(m.l_star_empirical), std::to_string(m.deviation)};
    std::vector<std::string> more;
    if (corpus) {
      if (m.corpus) {
        const auto& ls = m.corpus->l_star;
        more.push_back(std::to_string(m.corpus->n_texts));
        more.push_back(fmt::format("[{}, {}]", ls.ci_lo, ls.ci_hi));
        more.push_back(std::to_string(ls.mode));
      } else {
        more.insert(more.end(), {"-", "-", "-"});
      }
    }
    if (options.estimators) {
      if (m.estimators) {
        const auto& e = *m.estimators;
        more.push_back(two_segment_cell(e));
        more.push_back(e.trace_sign_change ? std::to_string(*e.trace_sign_change) : "-");
        more.push_back(consensus_cell(e));
      } else {
        more.insert(more.end(), {"-", "-", "-"});
      }
    }
    out += row(m.name, base, more);
  }
  for (const auto& f : report.failures) {
    std::string error = f.failure.line();  // one line, whatever the caller passed
    std::replace(error.begin(), error.end(), '\n', ' ');
    out += fmt::format("{:<{}}FAILED: {}\n", display_name(f.source), name_w, error);
  }
  out += rule + "\n";
  if (report.mean_deviation) {
    out += fmt::format("Mean deviation: {:.1f} layers\n", *report.mean_deviation);
  } else {
    out += "Mean deviation: n/a (no model analyzed)\n";
  }
  if (corpus) {
    for (const auto& m : report.models) {
      if (m.corpus) out += ratio_line(m.name, m.corpus->l_star_ratio);
    }
    if (report.cross_model) out += ratio_line("(mean over models)", report.cross_model->mean_ratio);
  }
  return out;
}

}  // namespace bentov::report
