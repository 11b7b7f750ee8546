#include "bentov/report/sweep_compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "bentov/error.h"
#include "bentov/report/json_writer.h"
#include "bentov/version.h"
#include "gnuplot.h"

namespace bentov::report {
namespace fs = std::filesystem;
using detail::num;
using detail::quote;

namespace {

std::string terminal(const fs::path& path, const fs::path& tmp, int w_in, int h_in) {
  auto ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (ext == ".png") {
    return fmt::format("set terminal pngcairo size {},{} enhanced font 'DejaVu Sans,12'\nset output {}\n",
                       w_in * 150, h_in * 150, quote(tmp.string()));
  }
  if (ext == ".svg") {
    return fmt::format("set terminal svg size {},{} enhanced font 'DejaVu Sans,12' background '#ffffff'\nset output {}\n",
                       w_in * 100, h_in * 100, quote(tmp.string()));
  }
  throw UsageError("figure '" + path.string() + "' must end in .png or .svg", "name the figure file *.png or *.svg");
}

// A gnuplot matrix block: rows = layers, columns = checkpoints.
template <typename Get>
std::string matrix_block(const std::string& name, const std::vector<ModelReport>& models, int layers, Get get) {
  std::string s = "$" + name + " << EOD\n";
  for (int l = 0; l < layers; ++l) {
    for (std::size_t m = 0; m < models.size(); ++m) {
      const double v = get(models[m].layers[static_cast<std::size_t>(l)]);
      s += (m ? " " : "") + (std::isfinite(v) ? num(v) : std::string("NaN"));
    }
    s += "\n";
  }
  return s + "EOD\n";
}

std::string checkpoint_tics(const std::vector<ModelReport>& models) {
  std::string t = "set xtics (";
  for (std::size_t m = 0; m < models.size(); ++m) {
    t += (m ? ", " : "") + quote(detail::shorten(models[m].name, 24)) + " " + std::to_string(m);
  }
  return t + ") rotate by 30 right\n";
}

nlohmann::json finite(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json stat_json(const analysis::PairedStat& p) {
  return {{"delta", finite(p.value)}, {"ci95", {finite(p.lo), finite(p.hi)}}, {"p_value", finite(p.p_value)}};
}

// "+0.0123 [+0.0050, +0.0200] p=0.002"
std::string stat_text(const analysis::PairedStat& p, const char* f = "{:+.4f}") {
  return fmt::format(fmt::runtime(std::string(f) + " [" + f + ", " + f + "] p={:.3g}"), p.value, p.lo, p.hi, p.p_value);
}

std::string loss_text(const ModelReport& m) {
  if (!m.loss) return "";
  std::string s = fmt::format("{:.4f}", *m.loss);
  if (m.corpus && m.corpus->loss) s += fmt::format(" [{:.4f}, {:.4f}]", m.corpus->loss->lo, m.corpus->loss->hi);
  return s;
}

// A number parsed from the end of a checkpoint name ("step1000" -> 1000), for the x axis.
std::optional<double> trailing_number(const std::string& name) {
  std::size_t i = name.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(name[i - 1]))) --i;
  if (i == name.size()) return std::nullopt;
  return std::stod(name.substr(i));
}

}  // namespace

nlohmann::json paired_json(const analysis::PairedShift& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : p.layers) {
    layers.push_back({{"index", l.index},
                      {"locality", stat_json(l.locality)},
                      {"entropy", stat_json(l.entropy)},
                      {"sheaf_trace", stat_json(l.sheaf_trace)},
                      {"sheaf_trace_per_token", stat_json(l.sheaf_trace_per_token)},
                      {"sink_mass", stat_json(l.sink_mass)},
                      {"locality_no_sink", stat_json(l.locality_no_sink)},
                      {"entropy_no_sink", stat_json(l.entropy_no_sink)},
                      {"row_entropy_mean", stat_json(l.row_entropy_mean)}});
  }
  nlohmann::json j = {{"n_texts", p.n_texts},
                      {"resamples", p.resamples},
                      {"L_star", stat_json(p.l_star)},
                      {"L_star_per_text", stat_json(p.l_star_per_text)},
                      {"layers", layers}};
  j["loss"] = p.loss ? stat_json(*p.loss) : nlohmann::json(nullptr);
  return j;
}

std::string format_sweep_table(const AnalysisReport& sweep, const SweepCorpus* corpus) {
  std::size_t w = 12;
  for (const auto& m : sweep.models) w = std::max(w, m.name.size() + 2);
  for (const auto& f : sweep.failures) w = std::max(w, display_name(f.source).size() + 2);
  std::string out = fmt::format("{:<{}}{:<10}{:<12}{:<16}{:<18}", "Checkpoint", w, "Layers", "L* (L/2)",
                                "L* (empirical)", "Locality range");
  if (corpus) out += fmt::format("{:<14}{}", "L* 95% CI", "Loss [95% CI]");
  out += "\n" + std::string(w + 10 + 12 + 16 + 18 + (corpus ? 36 : 0), '-') + "\n";
  for (const auto& m : sweep.models) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& l : m.layers) {
      lo = std::min(lo, l.locality);
      hi = std::max(hi, l.locality);
    }
    out += fmt::format("{:<{}}{:<10}{:<12}{:<16}{:<18}", m.name, w, m.n_layers, m.l_star_theoretical,
                       m.l_star_empirical, fmt::format("{:.3f} .. {:.3f}", lo, hi));
    if (corpus && m.corpus) {
      out += fmt::format("{:<14}{}", fmt::format("[{}, {}]", m.corpus->l_star.ci_lo, m.corpus->l_star.ci_hi), loss_text(m));
    }
    out += "\n";
  }
  for (const auto& f : sweep.failures) out += fmt::format("{:<{}}FAILED: {}\n", display_name(f.source), w, f.failure.line());
  if (!corpus) return out;
  out += "\nShifts between consecutive checkpoints (B - A, paired over texts; 95% CI, p-value):\n";
  for (std::size_t k = 0; k < corpus->shifts.size() && k + 1 < sweep.models.size(); ++k) {
    const auto& p = corpus->shifts[k];
    out += fmt::format("  {} -> {} ({} texts): L* {}", sweep.models[k].name, sweep.models[k + 1].name, p.n_texts,
                       stat_text(p.l_star, "{:+.0f}"));
    if (p.loss) out += "; loss " + stat_text(*p.loss);
    int moved = 0;
    for (const auto& l : p.layers) moved += l.locality.excludes_zero() ? 1 : 0;
    out += fmt::format("; locality moved in {} of {} layers\n", moved, p.layers.size());
  }
  if (corpus->correlation) {
    const auto& rc = *corpus->correlation;
    if (std::isfinite(rc.rho)) {
      out += fmt::format("Spearman's rho of L*/L and loss across {} checkpoints: {:.3f} [{:.3f}, {:.3f}]\n",
                         rc.n_checkpoints, rc.rho, rc.lo, rc.hi);
    } else {
      out += fmt::format("Spearman's rho of L*/L and loss across {} checkpoints: undefined (one of them is the same "
                         "at every checkpoint)\n", rc.n_checkpoints);
    }
  }
  return out;
}

nlohmann::json sweep_to_json(const AnalysisReport& sweep, const SweepCorpus* corpus) {
  nlohmann::json j = to_json(sweep);
  nlohmann::json names = nlohmann::json::array(), stars = nlohmann::json::array();
  for (const auto& m : sweep.models) {
    names.push_back(m.name);
    stars.push_back(m.l_star_empirical);
  }
  j["sweep"] = {{"checkpoints", names}, {"L_star_empirical", stars}};
  if (!corpus) return j;
  nlohmann::json cis = nlohmann::json::array(), ratios = nlohmann::json::array(), losses = nlohmann::json::array();
  for (const auto& m : sweep.models) {
    cis.push_back(m.corpus ? nlohmann::json{m.corpus->l_star.ci_lo, m.corpus->l_star.ci_hi} : nlohmann::json(nullptr));
    ratios.push_back(m.corpus ? nlohmann::json{{"value", finite(m.corpus->l_star_ratio.value)},
                                               {"ci95", {finite(m.corpus->l_star_ratio.lo), finite(m.corpus->l_star_ratio.hi)}}}
                              : nlohmann::json(nullptr));
    losses.push_back(m.loss ? finite(*m.loss) : nlohmann::json(nullptr));
  }
  nlohmann::json shifts = nlohmann::json::array();
  for (std::size_t k = 0; k < corpus->shifts.size() && k + 1 < sweep.models.size(); ++k) {
    nlohmann::json s = paired_json(corpus->shifts[k]);
    s["from"] = sweep.models[k].name;
    s["to"] = sweep.models[k + 1].name;
    shifts.push_back(std::move(s));
  }
  auto& js = j["sweep"];
  js["L_star_ci95"] = cis;
  js["L_star_ratio"] = ratios;
  js["loss"] = losses;
  js["shifts"] = shifts;
  js["method"] = analysis::kPairedMethod;
  if (corpus->correlation) {
    const auto& rc = *corpus->correlation;
    js["rank_correlation"] = {{"method", rc.method},           {"n_checkpoints", rc.n_checkpoints},
                              {"n_texts", rc.n_texts},         {"rho", finite(rc.rho)},
                              {"ci95", {finite(rc.lo), finite(rc.hi)}},
                              {"interval", "bootstrap percentile, the texts every checkpoint has resampled"}};
  } else {
    js["rank_correlation"] = nullptr;
  }
  return j;
}

void write_sweep_plot(const fs::path& path, const AnalysisReport& sweep) {
  const auto& ms = sweep.models;
  if (ms.empty()) throw UsageError("no checkpoint was analyzed: nothing to plot", "give sweep at least one checkpoint that loads");
  const int layers = ms.front().n_layers;
  for (const auto& m : ms) {
    if (m.n_layers != layers || static_cast<int>(m.layers.size()) != layers) {
      throw UsageError("checkpoints of a sweep must have the same number of layers (" + m.name + " has " +
                           std::to_string(m.n_layers) + ", " + ms.front().name + " " + std::to_string(layers) + ")",
                       "sweep one model's checkpoints; use analyze for different models");
    }
  }
  detail::render_gnuplot(path, [&](const fs::path& tmp) {
    std::string s = terminal(path, tmp, 14, 10);
    const bool corpus = std::all_of(ms.begin(), ms.end(), [](const ModelReport& m) { return m.corpus.has_value(); });
    const bool loss = std::all_of(ms.begin(), ms.end(), [](const ModelReport& m) { return m.loss.has_value(); });
    // x: the training step when every name ends in one ("step1000"), else the checkpoint's index.
    std::vector<double> x(ms.size());
    bool steps = true;
    for (std::size_t m = 0; m < ms.size(); ++m) {
      const auto t = trailing_number(ms[m].name);
      steps = steps && t.has_value() && (m == 0 || *t > x[m - 1]);
      x[m] = t.value_or(0.0);
    }
    if (!steps) {
      for (std::size_t m = 0; m < ms.size(); ++m) x[m] = static_cast<double>(m);
    }
    s += "$lstar << EOD\n";
    for (std::size_t m = 0; m < ms.size(); ++m) {
      const double L = ms[m].n_layers;
      const double lo = corpus ? ms[m].corpus->l_star.ci_lo / L : NAN, hi = corpus ? ms[m].corpus->l_star.ci_hi / L : NAN;
      s += fmt::format("{} {} {} {} {} {}\n", num(x[m]), num(ms[m].l_star_empirical / L), num(0.5), num(lo), num(hi),
                       loss ? num(*ms[m].loss) : std::string("NaN"));
    }
    s += "EOD\n";
    s += matrix_block("loc", ms, layers, [](const LayerSignature& l) { return l.locality; });
    s += matrix_block("ent", ms, layers, [](const LayerSignature& l) { return l.entropy; });
    s += matrix_block("sink", ms, layers, [](const LayerSignature& l) { return l.sink_mass; });
    const std::string xr = fmt::format("set xrange [-0.5:{}]\n", static_cast<double>(ms.size()) - 0.5);
    const std::string yr = fmt::format("set yrange [-0.5:{}]\nset ylabel 'Layer'\nset ytics 1\n", layers - 0.5);
    s += "set multiplot layout 2,2 title 'Sweep over checkpoints' font ',16'\n";
    s += "set grid ytics lc rgb '#dddddd'\nset key top left\n";
    if (steps) {
      s += "set xlabel 'Training step'\nset xtics autofreq\n";
      if (x.front() > 0 && x.back() / x.front() > 50) s += "set logscale x\n";
    } else {
      s += checkpoint_tics(ms) + xr;
    }
    s += "set yrange [0:1]\nset ylabel 'L* / L'\nset ytics 0.1\n";
    s += corpus ? "set title '(a) L*/L per checkpoint, 95% CI over texts'\n" : "set title '(a) L*/L per checkpoint'\n";
    std::string plot = "plot ";
    if (corpus) plot += "$lstar using 1:4:5 with filledcurves lc rgb '#f4a582' fs transparent solid 0.4 title '95% CI', ";
    plot += "$lstar using 1:2 with linespoints lw 2 pt 7 lc rgb '#d62728' title 'L*/L (empirical)', "
            "$lstar using 1:3 with lines dt 2 lw 2 lc rgb '#555555' title '1/2'";
    if (loss) {
      s += "set y2label 'Loss (nats/token)'\nset y2tics\nset ytics nomirror\n";
      plot += ", $lstar using 1:6 axes x1y2 with linespoints lw 2 pt 5 lc rgb '#1f77b4' title 'loss'";
    }
    s += plot + "\n";
    s += "unset y2label\nunset y2tics\nset ytics mirror\nunset logscale x\nunset xlabel\n" + checkpoint_tics(ms) + xr;
    s += "unset grid\nset palette defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')\n" + yr;
    s += "set title '(b) Attention locality'\nplot $loc matrix with image notitle\n";
    s += "set title '(c) Attention entropy (nats)'\nplot $ent matrix with image notitle\n";
    s += "set title '(d) Sink mass (attention on the first token)'\nplot $sink matrix with image notitle\n";
    return s + "unset multiplot\n";
  });
}

std::string format_compare_table(const analysis::Comparison& c, const analysis::PairedShift* paired) {
  if (paired) {
    std::string out = fmt::format("{} -> {} over {} texts (paired; 95% CI, p-value; * the CI excludes 0)\n", c.a.name,
                                  c.b.name, paired->n_texts);
    out += "  L* of the mean profiles " + stat_text(paired->l_star, "{:+.0f}") + "\n";
    out += "  per-text L* (mean)      " + stat_text(paired->l_star_per_text, "{:+.3f}") + "\n";
    if (paired->loss) out += "  loss (nats/token)       " + stat_text(*paired->loss) + "\n";
    out += fmt::format("{:<7}{:>11}{:>11}{:>34}{:>34}\n", "Layer", "locality A", "locality B", "d locality [95% CI]",
                       "d entropy [95% CI]");
    out += std::string(97, '-') + "\n";
    for (std::size_t l = 0; l < paired->layers.size() && l < c.a.layers.size(); ++l) {
      const auto& p = paired->layers[l];
      auto cell = [](const analysis::PairedStat& s) {
        return fmt::format("{:+.4f} [{:+.4f}, {:+.4f}]{}", s.value, s.lo, s.hi, s.excludes_zero() ? " *" : "  ");
      };
      out += fmt::format("{:<7}{:>11.4f}{:>11.4f}{:>34}{:>34}\n", p.index, c.a.layers[l].locality,
                         c.b.layers[l].locality, cell(p.locality), cell(p.entropy));
    }
    return out;
  }
  std::string out = fmt::format("{} -> {}: L* {} -> {} (shift {:+d}); largest locality change {:+.4f} at layer {}\n",
                                c.a.name, c.b.name, c.a.l_star_empirical, c.b.l_star_empirical, c.l_star_shift,
                                c.layers.empty() ? 0.0 : c.layers[static_cast<std::size_t>(c.max_abs_locality_layer)].locality,
                                c.max_abs_locality_layer);
  out += fmt::format("{:<7}{:>12}{:>12}{:>12}{:>12}{:>14}\n", "Layer", "locality A", "locality B", "d locality",
                     "d entropy", "d sheaf trace");
  out += std::string(69, '-') + "\n";
  for (std::size_t l = 0; l < c.layers.size(); ++l) {
    const auto& d = c.layers[l];
    out += fmt::format("{:<7}{:>12.4f}{:>12.4f}{:>+12.4f}{:>+12.4f}{:>+14.4g}\n", d.index, c.a.layers[l].locality,
                       c.b.layers[l].locality, d.locality, d.entropy, d.sheaf_trace);
  }
  return out;
}

namespace {
nlohmann::json comparison_json(const analysis::Comparison& c);
}  // namespace

nlohmann::json compare_to_json(const analysis::Comparison& c, const analysis::PairedShift* paired) {
  nlohmann::json j = comparison_json(c);
  if (paired) {
    j["paired"] = paired_json(*paired);
    j["paired"]["method"] = analysis::kPairedMethod;
  }
  return j;
}

namespace {
// compare.json without the paired statistics.
nlohmann::json comparison_json(const analysis::Comparison& c) {
  AnalysisReport both;
  both.models = {c.a, c.b};
  const auto models = to_json(both)["models"];
  nlohmann::json layers = nlohmann::json::array();
  auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  for (const auto& d : c.layers) {
    nlohmann::json heads = nlohmann::json::array();
    for (const auto& h : d.heads) heads.push_back({{"locality", finite(h.locality)}, {"entropy", finite(h.entropy)}});
    layers.push_back({{"index", d.index}, {"locality", finite(d.locality)}, {"entropy", finite(d.entropy)},
                      {"sheaf_trace", finite(d.sheaf_trace)}, {"sink_mass", finite(d.sink_mass)}, {"heads", heads}});
  }
  return {{"bentov_version", BENTOV_VERSION},
          {"a", models[0]},
          {"b", models[1]},
          {"L_star_shift", c.l_star_shift},
          {"delta", {{"definition", "b - a"}, {"layers", layers}}}};
}
}  // namespace

void write_compare_plot(const fs::path& path, const analysis::Comparison& c, const analysis::PairedShift* paired) {
  detail::render_gnuplot(path, [&](const fs::path& tmp) {
    std::string s = terminal(path, tmp, 14, 6);
    s += "$loc << EOD\n";
    for (std::size_t l = 0; l < c.layers.size(); ++l) {
      // column 4: B's locality where the paired CI of the delta excludes 0, else NaN (not drawn)
      const bool moved = paired && l < paired->layers.size() && paired->layers[l].locality.excludes_zero();
      s += fmt::format("{} {} {} {}\n", l, num(c.a.layers[l].locality), num(c.b.layers[l].locality),
                       moved ? num(c.b.layers[l].locality) : std::string("NaN"));
    }
    s += "EOD\n$heads << EOD\n";
    for (const auto& d : c.layers) {
      for (std::size_t h = 0; h < d.heads.size(); ++h) s += (h ? " " : "") + num(d.heads[h].locality);
      s += "\n";
    }
    s += "EOD\n";
    s += fmt::format("set multiplot layout 1,2 title {} font ',16'\n",
                     quote(c.a.name + " vs " + c.b.name + fmt::format(" (L* shift {:+d})", c.l_star_shift)));
    s += "set grid lc rgb '#dddddd'\nset xlabel 'Layer'\nset ylabel 'Locality (1=local, 0=global)'\nset key bottom right\n";
    s += "set title '(a) Attention locality'\n";
    s += fmt::format("plot $loc using 1:2 with linespoints lw 2 pt 7 lc rgb '#1f77b4' title {}, "
                     "$loc using 1:3 with linespoints lw 2 pt 5 lc rgb '#ff7f0e' title {}",
                     quote(c.a.name), quote(c.b.name));
    if (paired) {
      s += ", $loc using 1:4 with points pt 6 ps 3 lw 2 lc rgb '#000000' title 'delta CI excludes 0'";
    }
    s += "\n";
    const int heads = c.layers.empty() ? 1 : static_cast<int>(c.layers.front().heads.size());
    double m = 1e-6;
    for (const auto& d : c.layers) {
      for (const auto& h : d.heads) m = std::max(m, std::fabs(h.locality));
    }
    s += "unset grid\nset xlabel 'Head'\nset ylabel 'Layer'\n";
    s += fmt::format("set xrange [-0.5:{}]\nset yrange [-0.5:{}]\nset cbrange [{}:{}]\n", heads - 0.5,
                     static_cast<double>(c.layers.size()) - 0.5, -m, m);
    s += "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n";
    s += "set title '(b) Per-head locality change (B - A)'\nplot $heads matrix with image notitle\n";
    return s + "unset multiplot\n";
  });
}

}  // namespace bentov::report
